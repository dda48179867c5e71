/* signature.h - the X-AIRudder-Sign check (and the signing the replay does for the desk).
 *
 * AIRudder does not document its signing scheme, so every part of it is configuration
 * (contract section 3): an HMAC with sha256, sha1, sha512 or md5 over the raw body bytes,
 * encoded as hex (any case) or base64, with an optional literal prefix such as "sha256=",
 * one or more secrets (rotation), optionally selected by a key-id header. Comparison is
 * constant-time; a missing or empty signature never passes in enforce mode. */
#ifndef ARB_SIGNATURE_H
#define ARB_SIGNATURE_H

#include <stddef.h>

#include "arb/error.h"

enum arb_sig_mode { ARB_SIG_ENFORCE = 0, ARB_SIG_OFF };
enum arb_sig_algorithm { ARB_SIG_SHA256 = 0, ARB_SIG_SHA1, ARB_SIG_SHA512, ARB_SIG_MD5 };
enum arb_sig_encoding { ARB_SIG_HEX = 0, ARB_SIG_BASE64 };

/* Longest digest (sha512) in bytes, and its longest encoding (hex) with a NUL. */
#define ARB_SIG_DIGEST_MAX 64
#define ARB_SIG_TEXT_MAX (2 * ARB_SIG_DIGEST_MAX + 1)

struct arb_secret {
    char *id;     /* key id matched against key_header; NULL when not named */
    char *value;  /* the secret bytes; never logged */
    size_t len;
    void *mac;    /* an HMAC context keyed with it (arb_signature_prepare), or NULL */
};

struct arb_signature_ctx;

struct arb_signature_conf {
    enum arb_sig_mode mode;
    enum arb_sig_algorithm algorithm;
    enum arb_sig_encoding encoding;
    char *header;     /* the signature header, "X-AIRudder-Sign" */
    char *prefix;     /* literal prefix before the digest, "" for none */
    char *key_header; /* header naming the secret's id, "" for none */
    struct arb_secret *secrets;
    size_t nsecrets;
};

/* Check sig (the header's value, NULL when absent) over body. key_id is the key header's value
 * (NULL when absent): when given, only secrets with that id are tried and an unknown id fails;
 * when absent, every secret is tried. Returns 0 when the signature is valid (or mode is off),
 * -1 with err->code ARB_E_SIGNATURE and a reason that echoes nothing otherwise. */
int arb_signature_verify(const struct arb_signature_conf *conf, struct arb_signature_ctx *ctx,
                         const char *sig, const char *key_id, const void *body, size_t len,
                         struct arb_error *err);

/* Sign body with the first secret: out receives prefix + encoded digest, NUL-terminated.
 * out_size must be at least strlen(prefix) + ARB_SIG_TEXT_MAX. */
int arb_signature_sign(const struct arb_signature_conf *conf, struct arb_signature_ctx *ctx,
                       const void *body, size_t len, char *out, size_t out_size,
                       struct arb_error *err);

/* Key an HMAC context per secret once, so that verify and sign skip OpenSSL's per-call
 * algorithm lookup and key schedule (a quarter of the cost on a 5 KB body). Optional:
 * unprepared, they compute one-shot; the results are the same. Prepared contexts are only
 * read afterwards, so a prepared conf may be used from several threads. */
int arb_signature_prepare(struct arb_signature_conf *conf, struct arb_error *err);

/* One thread's own copies of a prepared conf's HMAC contexts, reset for each body instead of
 * copied from the shared ones (no allocation per body). verify and sign take one or NULL
 * (then they copy the shared contexts, or compute one-shot when the conf is unprepared); the
 * results are the same. Made after arb_signature_prepare; used by one thread at a time. */
struct arb_signature_ctx *arb_signature_ctx_new(const struct arb_signature_conf *conf);
void arb_signature_ctx_destroy(struct arb_signature_ctx *ctx);

/* Names used in configuration files; the parse functions return -1 on an unknown name. */
int arb_sig_mode_parse(const char *name, enum arb_sig_mode *out);
int arb_sig_algorithm_parse(const char *name, enum arb_sig_algorithm *out);
int arb_sig_encoding_parse(const char *name, enum arb_sig_encoding *out);

void arb_signature_conf_clear(struct arb_signature_conf *conf); /* frees members */
/* Free n secrets (their bytes wiped) and the array. */
void arb_secrets_free(struct arb_secret *secrets, size_t n);
/* Wipe len bytes of a secret (may be NULL). */
void arb_secret_cleanse(char *value, size_t len);

#endif
