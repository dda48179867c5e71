/* error.c - filling struct arb_error. */
#include "arb/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int arb_error_set(struct arb_error *err, enum arb_errcode code, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    err->code = code;
    err->retriable = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

void arb_error_clear(struct arb_error *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
}
