/* mem.c - allocation that aborts on failure (see mem.h for why). */
#include "arb/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "airudder: out of memory allocating %zu bytes\n", size);
    abort();
}

void arb_out_of_memory(const char *what)
{
    fprintf(stderr, "airudder: out of memory creating %s\n", what);
    abort();
}

void *arb_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *arb_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        out_of_memory(count * size);
    return p;
}

void *arb_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

char *arb_xstrndup(const char *s, size_t len)
{
    char *p = arb_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arb_xstrdup(const char *s)
{
    return arb_xstrndup(s, strlen(s));
}
