/* conf_input.h - a fuzz input as configuration text, and the resolver it is parsed with: a
 * fixed environment and one secret file, "file:secret". */
#ifndef ARB_FUZZ_CONF_INPUT_H
#define ARB_FUZZ_CONF_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "arb/resolver.h"

const struct arb_resolver *arb_fuzz_resolver(void);

/* The input as a NUL-terminated text (malloc'd), or NULL for an input not worth parsing
 * (an @include, a NUL). */
char *arb_fuzz_conf_text(const uint8_t *data, size_t size);

#endif
