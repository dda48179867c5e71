/* buf.c - growable byte buffer. */
#include "arb/buf.h"
#include "arb/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void arb_buf_init(struct arb_buf *buf)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void arb_buf_reserve(struct arb_buf *buf, size_t extra)
{
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    buf->data = arb_xrealloc(buf->data, cap);
    buf->cap = cap;
}

void arb_buf_append(struct arb_buf *buf, const void *data, size_t len)
{
    arb_buf_reserve(buf, len);
    if (len > 0)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void arb_buf_puts(struct arb_buf *buf, const char *s)
{
    arb_buf_append(buf, s, strlen(s));
}

void arb_buf_printf(struct arb_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    arb_buf_reserve(buf, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

size_t arb_u64_text(uint64_t value, char out[ARB_U64_TEXT])
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    memcpy(out, digits + sizeof(digits) - n, n);
    out[n] = '\0';
    return n;
}

void arb_buf_append_u64(struct arb_buf *buf, uint64_t value)
{
    char text[ARB_U64_TEXT];
    arb_buf_append(buf, text, arb_u64_text(value, text));
}

void arb_buf_reset(struct arb_buf *buf)
{
    buf->len = 0;
    if (buf->data != NULL)
        buf->data[0] = '\0';
}

char *arb_buf_detach(struct arb_buf *buf, size_t *len)
{
    arb_buf_reserve(buf, 0);
    buf->data[buf->len] = '\0'; /* an empty buffer was never terminated */
    char *data = buf->data;
    if (len != NULL)
        *len = buf->len;
    arb_buf_init(buf);
    return data;
}

void arb_buf_free(struct arb_buf *buf)
{
    free(buf->data);
    arb_buf_init(buf);
}
