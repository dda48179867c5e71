/* signature.c - HMAC signatures over raw bodies (see signature.h).
 *
 * Verification decodes the presented signature to bytes once, then compares it with the
 * HMAC under each candidate secret using CRYPTO_memcmp. Decoding first means hex case and
 * base64 padding never matter, and a malformed value is told apart from a wrong one. */
#include "arb/signature.h"
#include "arb/mem.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const EVP_MD *digest_of(enum arb_sig_algorithm algorithm)
{
    switch (algorithm) {
    case ARB_SIG_SHA1: return EVP_sha1();
    case ARB_SIG_SHA512: return EVP_sha512();
    case ARB_SIG_MD5: return EVP_md5();
    case ARB_SIG_SHA256: break;
    }
    return EVP_sha256();
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode exactly want bytes of hex; any other length or a non-hex character fails. */
static int decode_hex(const char *text, size_t text_len, unsigned char *out, size_t want)
{
    if (text_len != 2 * want)
        return -1;
    for (size_t i = 0; i < want; i++) {
        int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* Decode standard base64 of exactly want bytes; the '=' padding may be left out. */
static int decode_base64(const char *text, size_t text_len, unsigned char *out, size_t want)
{
    size_t padded_len = 4 * ((want + 2) / 3);
    size_t pad = padded_len - (want * 4 + 2) / 3;
    char padded[4 * ((ARB_SIG_DIGEST_MAX + 2) / 3) + 1];
    unsigned char decoded[sizeof(padded)];

    if (text_len != padded_len && text_len != padded_len - pad)
        return -1;
    memcpy(padded, text, text_len);
    memset(padded + text_len, '=', padded_len - text_len);
    for (size_t i = 0; i < padded_len - pad; i++)
        if (padded[i] == '=')
            return -1;
    for (size_t i = padded_len - pad; i < padded_len; i++)
        if (padded[i] != '=')
            return -1;
    if (EVP_DecodeBlock(decoded, (const unsigned char *)padded, (int)padded_len) < 0)
        return -1;
    memcpy(out, decoded, want);
    return 0;
}

static void encode(enum arb_sig_encoding encoding, const unsigned char *digest, size_t len,
                   char *out)
{
    static const char hex[] = "0123456789abcdef";
    if (encoding == ARB_SIG_BASE64) {
        EVP_EncodeBlock((unsigned char *)out, digest, (int)len);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[2 * len] = '\0';
}

static const char *digest_name(enum arb_sig_algorithm algorithm)
{
    return EVP_MD_get0_name(digest_of(algorithm));
}

struct arb_signature_ctx {
    const struct arb_signature_conf *conf;
    EVP_MAC_CTX *macs[]; /* one per secret: keyed, reset per body; NULL when unprepared */
};

struct arb_signature_ctx *arb_signature_ctx_new(const struct arb_signature_conf *conf)
{
    struct arb_signature_ctx *ctx =
        arb_xcalloc(1, sizeof(*ctx) + conf->nsecrets * sizeof(ctx->macs[0]));
    ctx->conf = conf;
    for (size_t i = 0; i < conf->nsecrets; i++)
        if (conf->secrets[i].mac != NULL)
            ctx->macs[i] = EVP_MAC_CTX_dup(conf->secrets[i].mac);
    return ctx;
}

void arb_signature_ctx_destroy(struct arb_signature_ctx *ctx)
{
    if (ctx == NULL)
        return;
    for (size_t i = 0; i < ctx->conf->nsecrets; i++)
        EVP_MAC_CTX_free(ctx->macs[i]);
    free(ctx);
}

static int mac_final(EVP_MAC_CTX *mac, const void *body, size_t len, unsigned char *out,
                     unsigned *out_len)
{
    size_t written = 0;
    int ok = EVP_MAC_update(mac, body, len) && EVP_MAC_final(mac, out, &written, EVP_MAX_MD_SIZE);
    *out_len = (unsigned)written;
    return ok ? 0 : -1;
}

/* HMAC of body under secret i: with the thread's context reset (a NULL key keeps the key),
 * else a copy of the shared prepared one, else one-shot. */
static int hmac(const struct arb_signature_conf *conf, struct arb_signature_ctx *ctx, size_t i,
                const void *body, size_t len, unsigned char *out, unsigned *out_len)
{
    const struct arb_secret *secret = &conf->secrets[i];
    if (ctx != NULL && ctx->macs[i] != NULL) {
        if (!EVP_MAC_init(ctx->macs[i], NULL, 0, NULL))
            return -1;
        return mac_final(ctx->macs[i], body, len, out, out_len);
    }
    if (secret->mac == NULL)
        return HMAC(digest_of(conf->algorithm), secret->value, (int)secret->len, body, len, out,
                    out_len) == NULL ? -1 : 0;
    EVP_MAC_CTX *copy = EVP_MAC_CTX_dup(secret->mac);
    int rc = copy != NULL ? mac_final(copy, body, len, out, out_len) : -1;
    EVP_MAC_CTX_free(copy);
    return rc;
}

int arb_signature_prepare(struct arb_signature_conf *conf, struct arb_error *err)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         (char *)digest_name(conf->algorithm), 0),
        OSSL_PARAM_construct_end(),
    };
    int rc = 0;

    for (size_t i = 0; mac != NULL && i < conf->nsecrets && rc == 0; i++) {
        struct arb_secret *secret = &conf->secrets[i];
        EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
        if (ctx == NULL || !EVP_MAC_init(ctx, (const unsigned char *)secret->value, secret->len,
                                         params)) {
            EVP_MAC_CTX_free(ctx);
            rc = arb_error_set(err, ARB_E_SIGNATURE, "cannot prepare the HMAC of secret %zu", i);
            continue;
        }
        EVP_MAC_CTX_free(secret->mac);
        secret->mac = ctx;
    }
    if (mac == NULL)
        rc = arb_error_set(err, ARB_E_SIGNATURE, "OpenSSL has no HMAC");
    EVP_MAC_free(mac);
    return rc;
}

static bool secret_selected(const struct arb_secret *secret, const char *key_id)
{
    return key_id == NULL || (secret->id != NULL && strcmp(secret->id, key_id) == 0);
}

int arb_signature_verify(const struct arb_signature_conf *conf, struct arb_signature_ctx *ctx,
                         const char *sig, const char *key_id, const void *body, size_t len,
                         struct arb_error *err)
{
    if (conf->mode == ARB_SIG_OFF)
        return 0;
    if (sig == NULL)
        return arb_error_set(err, ARB_E_SIGNATURE, "signature header missing");
    if (sig[0] == '\0')
        return arb_error_set(err, ARB_E_SIGNATURE, "signature header empty");
    if (key_id != NULL && key_id[0] == '\0')
        key_id = NULL;

    size_t prefix_len = conf->prefix ? strlen(conf->prefix) : 0;
    if (prefix_len > 0 && strncmp(sig, conf->prefix, prefix_len) != 0)
        return arb_error_set(err, ARB_E_SIGNATURE, "signature lacks the configured prefix");
    const char *text = sig + prefix_len;
    size_t text_len = strlen(text);

    size_t digest_len = (size_t)EVP_MD_get_size(digest_of(conf->algorithm));
    unsigned char presented[ARB_SIG_DIGEST_MAX];
    int rc = conf->encoding == ARB_SIG_BASE64
                 ? decode_base64(text, text_len, presented, digest_len)
                 : decode_hex(text, text_len, presented, digest_len);
    if (rc != 0)
        return arb_error_set(err, ARB_E_SIGNATURE, "signature malformed for %s",
                             conf->encoding == ARB_SIG_BASE64 ? "base64" : "hex");

    bool tried = false;
    for (size_t i = 0; i < conf->nsecrets; i++) {
        const struct arb_secret *secret = &conf->secrets[i];
        unsigned char expected[EVP_MAX_MD_SIZE];
        unsigned expected_len = 0;
        if (!secret_selected(secret, key_id))
            continue;
        tried = true;
        if (hmac(conf, ctx, i, body, len, expected, &expected_len) != 0)
            return arb_error_set(err, ARB_E_SIGNATURE, "HMAC computation failed");
        if (expected_len == digest_len && CRYPTO_memcmp(expected, presented, digest_len) == 0)
            return 0;
    }
    if (!tried)
        return arb_error_set(err, ARB_E_SIGNATURE, "no secret has the presented key id");
    return arb_error_set(err, ARB_E_SIGNATURE, "signature does not match");
}

int arb_signature_sign(const struct arb_signature_conf *conf, struct arb_signature_ctx *ctx,
                       const void *body, size_t len, char *out, size_t out_size,
                       struct arb_error *err)
{
    const char *prefix = conf->prefix ? conf->prefix : "";
    size_t prefix_len = strlen(prefix);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;

    if (conf->nsecrets == 0)
        return arb_error_set(err, ARB_E_INVALID, "no secret to sign with");
    if (out_size < prefix_len + ARB_SIG_TEXT_MAX)
        return arb_error_set(err, ARB_E_INVALID, "signature buffer too small");
    if (hmac(conf, ctx, 0, body, len, digest, &digest_len) != 0)
        return arb_error_set(err, ARB_E_SIGNATURE, "HMAC computation failed");
    memcpy(out, prefix, prefix_len);
    encode(conf->encoding, digest, digest_len, out + prefix_len);
    return 0;
}

static int parse_name(const char *name, const char *const *names, size_t count, int *out)
{
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(name, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return -1;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int arb_sig_mode_parse(const char *name, enum arb_sig_mode *out)
{
    static const char *const names[] = {"enforce", "off"};
    int v;
    if (parse_name(name, names, COUNT(names), &v) != 0)
        return -1;
    *out = (enum arb_sig_mode)v;
    return 0;
}

int arb_sig_algorithm_parse(const char *name, enum arb_sig_algorithm *out)
{
    static const char *const names[] = {"sha256", "sha1", "sha512", "md5"};
    int v;
    if (parse_name(name, names, COUNT(names), &v) != 0)
        return -1;
    *out = (enum arb_sig_algorithm)v;
    return 0;
}

int arb_sig_encoding_parse(const char *name, enum arb_sig_encoding *out)
{
    static const char *const names[] = {"hex", "base64"};
    int v;
    if (parse_name(name, names, COUNT(names), &v) != 0)
        return -1;
    *out = (enum arb_sig_encoding)v;
    return 0;
}

void arb_secret_cleanse(char *value, size_t len)
{
    if (value != NULL)
        OPENSSL_cleanse(value, len);
}

void arb_secrets_free(struct arb_secret *secrets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        EVP_MAC_CTX_free(secrets[i].mac);
        free(secrets[i].id);
        arb_secret_cleanse(secrets[i].value, secrets[i].len);
        free(secrets[i].value);
    }
    free(secrets);
}

void arb_signature_conf_clear(struct arb_signature_conf *conf)
{
    if (conf == NULL)
        return;
    arb_secrets_free(conf->secrets, conf->nsecrets);
    free(conf->header);
    free(conf->prefix);
    free(conf->key_header);
    memset(conf, 0, sizeof(*conf));
}
