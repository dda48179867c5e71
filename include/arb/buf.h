/* buf.h - a growable byte buffer, always NUL-terminated for convenience. */
#ifndef ARB_BUF_H
#define ARB_BUF_H

#include <stddef.h>
#include <stdint.h>

struct arb_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
};

void arb_buf_init(struct arb_buf *buf);
void arb_buf_reserve(struct arb_buf *buf, size_t extra);
void arb_buf_append(struct arb_buf *buf, const void *data, size_t len);
void arb_buf_puts(struct arb_buf *buf, const char *s);
void arb_buf_printf(struct arb_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arb_buf_append_u64(struct arb_buf *buf, uint64_t value); /* decimal, without printf */
/* value in decimal into out, NUL-terminated, without printf; returns its length */
#define ARB_U64_TEXT 21
size_t arb_u64_text(uint64_t value, char out[ARB_U64_TEXT]);
void arb_buf_reset(struct arb_buf *buf); /* len = 0, keeps the memory */
char *arb_buf_detach(struct arb_buf *buf, size_t *len); /* caller owns the result (free) */
void arb_buf_free(struct arb_buf *buf);

#endif
