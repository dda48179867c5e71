/* platform.h - the environment and the file system (platform/env.c): the resolver through
 * which the configuration sees ${NAME} and "file:PATH", and reading a small file whole. */
#ifndef ARB_PLATFORM_H
#define ARB_PLATFORM_H

#include <stddef.h>

#include "arb/buf.h"
#include "arb/error.h"
#include "arb/resolver.h"

/* getenv and the file system. */
const struct arb_resolver *arb_platform_resolver(void);

/* Append the file at path to out; more than max bytes, or any error: -1 with err
 * ("cannot read PATH: reason"). */
int arb_platform_read_file(const char *path, size_t max, struct arb_buf *out,
                           struct arb_error *err);

#endif
