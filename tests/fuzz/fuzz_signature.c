/* fuzz_signature.c - arb_signature_verify on hostile headers and bodies.
 *
 * Input: one option byte, the X-AIRudder-Sign value up to the first '\n', then the body.
 * The option byte picks the algorithm (bits 0-1), the encoding (bit 2), a "sha256=" prefix
 * (bit 3), the key id sent (bits 4-5: none, "k1", "k2", "nope") and whether the HMAC
 * contexts are prepared (bit 6). Beyond not crashing, it checks what must always hold:
 * prepared and one-shot HMACs give the same answer, a failure names a reason, and the body
 * signed with the first secret always verifies. */
#include "check.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arb/mem.h"
#include "arb/signature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* [algorithm][encoding][prefix][prepared] */
static struct arb_signature_conf confs[4][2][2][2];

static void conf_init(struct arb_signature_conf *conf, int algorithm, int encoding,
                      bool prefix, bool prepared)
{
    static const char *const ids[] = {"k1", "k2"};
    static const char *const values[] = {"whsec-2024", "rotated-secret"};
    conf->mode = ARB_SIG_ENFORCE;
    conf->algorithm = (enum arb_sig_algorithm)algorithm;
    conf->encoding = (enum arb_sig_encoding)encoding;
    conf->header = arb_xstrdup("X-AIRudder-Sign");
    conf->prefix = arb_xstrdup(prefix ? "sha256=" : "");
    conf->key_header = arb_xstrdup("X-AIRudder-Sign-Key");
    conf->nsecrets = 2;
    conf->secrets = arb_xcalloc(2, sizeof(*conf->secrets));
    for (size_t i = 0; i < 2; i++) {
        conf->secrets[i].id = arb_xstrdup(ids[i]);
        conf->secrets[i].value = arb_xstrdup(values[i]);
        conf->secrets[i].len = strlen(values[i]);
    }
    if (prepared) {
        struct arb_error err;
        if (arb_signature_prepare(conf, &err) != 0)
            abort();
    }
}

static void confs_free(void)
{
    struct arb_signature_conf *all = &confs[0][0][0][0];
    for (size_t i = 0; i < sizeof(confs) / sizeof(confs[0][0][0][0]); i++)
        arb_signature_conf_clear(&all[i]);
}

static void confs_init(void)
{
    for (int a = 0; a < 4; a++)
        for (int e = 0; e < 2; e++)
            for (int p = 0; p < 2; p++)
                for (int r = 0; r < 2; r++)
                    conf_init(&confs[a][e][p][r], a, e, p, r);
    atexit(confs_free); /* so LeakSanitizer sees them freed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static const char *const key_ids[] = {NULL, "k1", "k2", "nope"};
    if (!ready) {
        confs_init();
        ready = true;
    }
    if (size < 1)
        return 0;
    unsigned options = data[0];
    data++, size--;
    const uint8_t *newline = memchr(data, '\n', size);
    size_t sig_len = newline ? (size_t)(newline - data) : size;
    char *sig = arb_xstrndup((const char *)data, sig_len); /* a NUL in it ends it, as in C */
    const uint8_t *body = newline ? newline + 1 : data + size;
    size_t body_len = (size_t)(data + size - body);
    /* a copy of exactly body_len bytes, so ASan catches any read past the body */
    uint8_t *copy = arb_xmalloc(body_len ? body_len : 1);
    memcpy(copy, body, body_len);

    int a = options & 3, e = options >> 2 & 1, p = options >> 3 & 1;
    const char *key_id = key_ids[options >> 4 & 3];
    const struct arb_signature_conf *prepared = &confs[a][e][p][1];
    const struct arb_signature_conf *oneshot = &confs[a][e][p][0];
    const struct arb_signature_conf *conf = options & 0x40 ? prepared : oneshot;

    struct arb_error err1 = {0}, err2 = {0};
    int rc1 = arb_signature_verify(prepared, NULL, sig, key_id, copy, body_len, &err1);
    int rc2 = arb_signature_verify(oneshot, NULL, sig, key_id, copy, body_len, &err2);
    CHECK(rc1 == rc2); /* a prepared HMAC and a one-shot HMAC disagree */
    struct arb_signature_ctx *ctx = arb_signature_ctx_new(prepared);
    CHECK(arb_signature_verify(prepared, ctx, sig, key_id, copy, body_len, &err2) == rc1);
    CHECK(arb_signature_verify(prepared, ctx, sig, key_id, copy, body_len, &err2) == rc1);
    arb_signature_ctx_destroy(ctx);
    CHECK(rc1 == 0 || (err1.code == ARB_E_SIGNATURE && err1.message[0] != '\0'));
    /* Without "sha256=" and a hex digest, a header cannot pass unless it is 2n hex digits. */
    if (rc1 == 0 && !p && !e)
        CHECK(strspn(sig, "0123456789abcdefABCDEF") == strlen(sig));

    /* The round trip: what we sign with secret k1 verifies (without key id, or with k1). */
    char signed_text[sizeof("sha256=") + ARB_SIG_TEXT_MAX];
    struct arb_error err3 = {0};
    if (arb_signature_sign(conf, NULL, copy, body_len, signed_text, sizeof(signed_text), &err3) != 0)
        abort();
    CHECK(arb_signature_verify(conf, NULL, signed_text, NULL, copy, body_len, &err3) == 0);
    CHECK(arb_signature_verify(conf, NULL, signed_text, "k1", copy, body_len, &err3) == 0);
    CHECK(arb_signature_verify(conf, NULL, signed_text, "k2", copy, body_len, &err3) != 0);

    free(copy);
    free(sig);
    return 0;
}
