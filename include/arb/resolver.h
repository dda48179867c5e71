/* resolver.h - how the configuration reaches the world outside its text: environment
 * variables (${NAME}) and files ("file:PATH" secrets). The loader only calls these; the
 * platform layer provides the real ones (platform/env.c), tests their own. */
#ifndef ARB_RESOLVER_H
#define ARB_RESOLVER_H

#include <stddef.h>

#include "arb/buf.h"
#include "arb/error.h"

struct arb_resolver {
    /* The variable's value, or NULL when it is not set. */
    const char *(*env)(void *opaque, const char *name);
    /* Append the file's contents to out; more than max bytes is an error. -1 with err. */
    int (*read_file)(void *opaque, const char *path, size_t max, struct arb_buf *out,
                     struct arb_error *err);
    void *opaque;
};

#endif
