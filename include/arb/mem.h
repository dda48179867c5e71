/* mem.h - the project's one out-of-memory policy: allocate or abort with a message.
 *
 * A bridge that cannot allocate a few hundred bytes cannot answer anything truthfully, so
 * failure to allocate is not an error path threaded through every caller: it logs and aborts
 * (like Redis's zmalloc). Code that wants to bound memory does so with explicit limits. */
#ifndef ARB_MEM_H
#define ARB_MEM_H

#include <stddef.h>

void *arb_xmalloc(size_t size);
void *arb_xcalloc(size_t count, size_t size);
void *arb_xrealloc(void *ptr, size_t size);
char *arb_xstrdup(const char *s);
char *arb_xstrndup(const char *s, size_t len);
/* For allocators of others (OpenSSL, simdjson) that return NULL: the same message and abort. */
void arb_out_of_memory(const char *what) __attribute__((noreturn));

#endif
