/* auth.h - is the sender of a webhook who the endpoint expects (contract section 3a)?
 *
 * signature: the HMAC of the raw body in the signature header (signature.h), the header
 * given exactly once; token: a shared secret, in a header given once or as the path's last
 * segment; basic: HTTP Basic credentials; none: anyone. Header values are trimmed of spaces
 * and tabs on both sides first. Secrets are compared in constant time, through their SHA-256
 * so that their lengths leak nothing either. Refusals say why, echoing nothing. */
#ifndef ARB_AUTH_H
#define ARB_AUTH_H

#include <stddef.h>

#include "arb/config.h"
#include "arb/error.h"

/* A header as the request had it: its value (the first, when repeated) and how many times
 * it came. */
struct arb_auth_header {
    const char *value; /* NULL when absent */
    size_t len;
    unsigned count;
};

struct arb_auth_request {
    struct arb_auth_header signature, key_id, token, authorization;
    const char *path_token; /* the endpoint path's {token} segment, or NULL */
    size_t path_token_len;
    const void *body;
    size_t len;
};

/* 0 when the endpoint's sender is authenticated; else -1 with ARB_E_SIGNATURE (signature)
 * or ARB_E_AUTH (token, basic). ctx: the thread's HMAC contexts for the endpoint's signature
 * conf (signature.h), or NULL. */
int arb_auth_check(const struct arb_endpoint_conf *endpoint, struct arb_signature_ctx *ctx,
                   const struct arb_auth_request *req, struct arb_error *err);

#endif
