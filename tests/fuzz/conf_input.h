/* conf_input.h - hand a fuzz input to a loader that takes a file path. */
#ifndef ARB_FUZZ_CONF_INPUT_H
#define ARB_FUZZ_CONF_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* The path of a file (a memfd, so nothing touches the disk) now holding exactly data, or
 * NULL when the input is one the harness will not load: @include and "file:" secrets
 * outside the harness's own directory (they would read /dev/zero or a FIFO, which says
 * nothing about the loader). The first call also sets the environment the seeds use and
 * enters a temporary directory holding a secret file named "secret". */
const char *arb_fuzz_conf_path(const uint8_t *data, size_t size);

#endif
