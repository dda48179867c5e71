/* auth.c - authenticating webhook senders (see auth.h). */
#include "arb/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define HEADER_MAX 1024 /* a signature, token or credential longer than this is not one */

/* value without spaces and tabs on either side, NUL-terminated in out (HEADER_MAX bytes);
 * -1 when too long. */
static int trimmed(const struct arb_auth_header *h, char *out)
{
    const char *p = h->value;
    size_t len = h->len;
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (len >= HEADER_MAX)
        return -1;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

static int check_signature(const struct arb_endpoint_conf *endpoint,
                           struct arb_signature_ctx *ctx, const struct arb_auth_request *req,
                           struct arb_error *err)
{
    char sig[HEADER_MAX], key_id[HEADER_MAX];
    const struct arb_signature_conf *conf = endpoint->signature;

    if (conf->mode == ARB_SIG_OFF)
        return 0;
    if (req->signature.count > 1)
        return arb_error_set(err, ARB_E_SIGNATURE, "signature header repeated");
    if (req->key_id.count > 1)
        return arb_error_set(err, ARB_E_SIGNATURE, "key id header repeated");
    if (req->signature.value != NULL && trimmed(&req->signature, sig) != 0)
        return arb_error_set(err, ARB_E_SIGNATURE, "signature header too long");
    if (req->key_id.value != NULL && trimmed(&req->key_id, key_id) != 0)
        return arb_error_set(err, ARB_E_SIGNATURE, "key id header too long");
    return arb_signature_verify(conf, ctx, req->signature.value != NULL ? sig : NULL,
                                req->key_id.value != NULL ? key_id : NULL, req->body, req->len,
                                err);
}

static void digest(const void *data, size_t len, unsigned char out[SHA256_DIGEST_LENGTH])
{
    SHA256(data, len, out);
}

/* Whether any secret equals value, comparing every one (no early exit). */
static bool any_secret(const struct arb_secret *secrets, size_t n, const char *value, size_t len)
{
    unsigned char presented[SHA256_DIGEST_LENGTH], expected[SHA256_DIGEST_LENGTH];
    bool found = false;
    digest(value, len, presented);
    for (size_t i = 0; i < n; i++) {
        digest(secrets[i].value, secrets[i].len, expected);
        found |= CRYPTO_memcmp(presented, expected, sizeof(presented)) == 0;
    }
    OPENSSL_cleanse(presented, sizeof(presented));
    return found;
}

static int check_token(const struct arb_endpoint_conf *endpoint,
                       const struct arb_auth_request *req, struct arb_error *err)
{
    char token[HEADER_MAX];
    const char *value = token;
    size_t len;

    if (endpoint->token.header[0] == '\0') {
        if (req->path_token == NULL || req->path_token_len == 0)
            return arb_error_set(err, ARB_E_AUTH, "token missing from the path");
        value = req->path_token;
        len = req->path_token_len;
    } else {
        if (req->token.count == 0)
            return arb_error_set(err, ARB_E_AUTH, "token header missing");
        if (req->token.count > 1)
            return arb_error_set(err, ARB_E_AUTH, "token header repeated");
        if (trimmed(&req->token, token) != 0)
            return arb_error_set(err, ARB_E_AUTH, "token header too long");
        len = strlen(token);
    }
    if (len == 0)
        return arb_error_set(err, ARB_E_AUTH, "token empty");
    if (!any_secret(endpoint->token.secrets, endpoint->token.nsecrets, value, len))
        return arb_error_set(err, ARB_E_AUTH, "token does not match");
    return 0;
}

/* "Basic <base64 of user:password>" decoded into out; its length, or -1. */
static int basic_credentials(const char *header, unsigned char *out, size_t out_size)
{
    static const char scheme[] = "Basic ";
    EVP_ENCODE_CTX *ctx;
    int len = 0, last = 0;

    if (strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
        return -1;
    header += sizeof(scheme) - 1;
    while (*header == ' ')
        header++;
    size_t in_len = strlen(header);
    if (in_len == 0 || (in_len / 4 + 1) * 3 > out_size || (ctx = EVP_ENCODE_CTX_new()) == NULL)
        return -1;
    EVP_DecodeInit(ctx);
    int ok = EVP_DecodeUpdate(ctx, out, &len, (const unsigned char *)header, (int)in_len) >= 0 &&
             EVP_DecodeFinal(ctx, out + len, &last) == 1;
    EVP_ENCODE_CTX_free(ctx);
    return ok ? len + last : -1;
}

static int check_basic(const struct arb_endpoint_conf *endpoint,
                       const struct arb_auth_request *req, struct arb_error *err)
{
    char header[HEADER_MAX];
    unsigned char presented[HEADER_MAX];
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    bool found = false;
    int len;

    if (req->authorization.count == 0)
        return arb_error_set(err, ARB_E_AUTH, "credentials missing");
    if (req->authorization.count > 1)
        return arb_error_set(err, ARB_E_AUTH, "authorization header repeated");
    if (trimmed(&req->authorization, header) != 0 ||
        (len = basic_credentials(header, presented, sizeof(presented))) < 0 ||
        memchr(presented, ':', (size_t)len) == NULL)
        return arb_error_set(err, ARB_E_AUTH, "credentials malformed");
    digest(presented, (size_t)len, got);
    OPENSSL_cleanse(presented, sizeof(presented));
    for (size_t i = 0; i < endpoint->basic.nusers; i++) {
        const struct arb_credential *user = &endpoint->basic.users[i];
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned n = 0;
        int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
                 EVP_DigestUpdate(ctx, user->user, strlen(user->user)) &&
                 EVP_DigestUpdate(ctx, ":", 1) &&
                 EVP_DigestUpdate(ctx, user->password, user->password_len) &&
                 EVP_DigestFinal_ex(ctx, want, &n);
        EVP_MD_CTX_free(ctx);
        found |= ok && CRYPTO_memcmp(want, got, sizeof(got)) == 0;
    }
    if (!found)
        return arb_error_set(err, ARB_E_AUTH, "credentials do not match");
    return 0;
}

int arb_auth_check(const struct arb_endpoint_conf *endpoint, struct arb_signature_ctx *ctx,
                   const struct arb_auth_request *req, struct arb_error *err)
{
    switch (endpoint->auth) {
    case ARB_AUTH_SIGNATURE: return check_signature(endpoint, ctx, req, err);
    case ARB_AUTH_TOKEN: return check_token(endpoint, req, err);
    case ARB_AUTH_BASIC: return check_basic(endpoint, req, err);
    case ARB_AUTH_NONE: break;
    }
    return 0;
}
