/* test_signature.c - every option of contract section 3, known-answer vectors, round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/mem.h"
#include "arb/signature.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SECRETS 3

#define SHA256 ARB_SIG_SHA256
#define SHA1 ARB_SIG_SHA1
#define SHA512 ARB_SIG_SHA512
#define MD5 ARB_SIG_MD5
#define HEX ARB_SIG_HEX
#define B64 ARB_SIG_BASE64

/* RFC 4231 / RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?". */
#define TC2_KEY "Jefe"
#define TC2_DATA "what do ya want for nothing?"
#define TC2_SHA256_HEX "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
#define TC2_SHA256_HEX_UPPER "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
#define TC2_SHA256_HEX_MIXED "5bdcC146bf60754E6a042426089575c75a003f089d2739839dec58b964ec3843"
#define TC2_SHA256_B64 "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
#define TC2_SHA256_B64_NOPAD "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM"
#define TC2_SHA1_HEX "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
#define TC2_SHA1_B64 "7/zfauXrL6LSdBbV8YTfnCWafHk="
#define TC2_SHA512_HEX                                                                          \
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"                         \
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
#define TC2_SHA512_B64                                                                          \
    "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw=="
#define TC2_SHA512_B64_NOPAD                                                                    \
    "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw"
#define TC2_SHA512_B64_ONEPAD                                                                   \
    "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw="
#define TC2_SHA512_B64URL                                                                       \
    "Fkt6e_z4GeLjlfvnO1bgo4e9ZCIugx_WECcM1-olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw=="
#define TC2_MD5_HEX "750c783e6ab0b503eaa86e310a5db738"
#define TC2_MD5_B64 "dQx4PmqwtQPqqG4xCl23OA=="
#define TC2_MD5_B64_NOPAD "dQx4PmqwtQPqqG4xCl23OA"

/* The documented example body under secret "whsec-2024", computed with
 * `openssl dgst -<alg> -hmac whsec-2024 [-binary | base64] < channel.message.sent.json`. */
#define FIX_KEY "whsec-2024"
#define FIX_SHA256_HEX "9ae122efab9195154826c6a6ce018ef48d11ee39e8d2fe964560ae5d0563e98f"
#define FIX_SHA256_B64 "muEi76uRlRVIJsamzgGO9I0R7jno0v6WRWCuXQVj6Y8="
#define FIX_SHA1_HEX "30757a97a0c9cf52efe93b1e1b0584744a6e2a3e"
#define FIX_SHA1_B64 "MHV6l6DJz1Lv6TseGwWEdEpuKj4="
#define FIX_SHA512_HEX                                                                          \
    "cfe0bd1718d03df7265c5dc542d1c600a65e63a3ff2bb828a647e2cff8db8c0c"                         \
    "41d81139d56bdd54062651a6ad72c23b99ffc7fbe25cf6b7bbbf58b0f1801375"
#define FIX_SHA512_B64                                                                          \
    "z+C9FxjQPfcmXF3FQtHGAKZeY6P/K7gopkfiz/jbjAxB2BE51WvdVAYmUaatcsI7mf/H++Jc9re7v1iw8YATdQ=="
#define FIX_MD5_HEX "3e1cad4c175b2eb3e45f23e1eba3411c"
#define FIX_MD5_B64 "PhytTBdbLrPkXyPh66NBHA=="

/* HMAC-SHA256, key "key", empty body. */
#define EMPTY_SHA256_HEX "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0"

#define FIXTURE "channel.message.sent.json"

struct secret_spec {
    const char *id; /* NULL: not named */
    const char *value; /* NULL ends the list */
};

struct conf_spec {
    enum arb_sig_mode mode;
    enum arb_sig_algorithm algorithm;
    enum arb_sig_encoding encoding;
    const char *prefix;
    struct secret_spec secrets[MAX_SECRETS];
};

/* A conf built the way the config loader does (owned strings), released by
 * arb_signature_conf_clear, so the tests cover that too. */
static struct arb_signature_conf make_conf(const struct conf_spec *spec)
{
    struct arb_signature_conf conf = {0};
    conf.mode = spec->mode;
    conf.algorithm = spec->algorithm;
    conf.encoding = spec->encoding;
    conf.header = arb_xstrdup("X-AIRudder-Sign");
    conf.prefix = arb_xstrdup(spec->prefix ? spec->prefix : "");
    conf.key_header = arb_xstrdup("X-AIRudder-Sign-Key");
    conf.secrets = arb_xcalloc(MAX_SECRETS, sizeof(*conf.secrets));
    for (size_t i = 0; i < MAX_SECRETS && spec->secrets[i].value != NULL; i++) {
        struct arb_secret *secret = &conf.secrets[conf.nsecrets++];
        secret->id = spec->secrets[i].id ? arb_xstrdup(spec->secrets[i].id) : NULL;
        secret->value = arb_xstrdup(spec->secrets[i].value);
        secret->len = strlen(spec->secrets[i].value);
    }
    return conf;
}

/* A failure message must name the problem and echo neither secrets nor the signature. */
static void assert_no_echo(const struct conf_spec *spec, const char *sig, const char *message)
{
    for (size_t i = 0; i < MAX_SECRETS && spec->secrets[i].value != NULL; i++)
        if (strlen(spec->secrets[i].value) >= 4 && strstr(message, spec->secrets[i].value))
            fail_msg("message \"%s\" echoes a secret", message);
    if (sig == NULL)
        return;
    size_t prefix_len = spec->prefix ? strlen(spec->prefix) : 0;
    const char *digest = strncmp(sig, spec->prefix ? spec->prefix : "", prefix_len) == 0
                             ? sig + prefix_len
                             : sig;
    if ((strlen(sig) >= 4 && strstr(message, sig)) ||
        (strlen(digest) >= 4 && strstr(message, digest)))
        fail_msg("message \"%s\" echoes the signature", message);
}

/* ---- known answers: sign gives exactly the vector, verify accepts it ---- */

struct kat_case {
    enum arb_sig_algorithm algorithm;
    enum arb_sig_encoding encoding;
    const char *key;
    const char *body; /* NULL: the channel.message.sent fixture */
    const char *expected;
};

static const struct kat_case kat_cases[] = {
    {SHA256, HEX, TC2_KEY, TC2_DATA, TC2_SHA256_HEX},
    {SHA256, B64, TC2_KEY, TC2_DATA, TC2_SHA256_B64},
    {SHA1, HEX, TC2_KEY, TC2_DATA, TC2_SHA1_HEX},
    {SHA1, B64, TC2_KEY, TC2_DATA, TC2_SHA1_B64},
    {SHA512, HEX, TC2_KEY, TC2_DATA, TC2_SHA512_HEX},
    {SHA512, B64, TC2_KEY, TC2_DATA, TC2_SHA512_B64},
    {MD5, HEX, TC2_KEY, TC2_DATA, TC2_MD5_HEX},
    {MD5, B64, TC2_KEY, TC2_DATA, TC2_MD5_B64},
    {SHA256, HEX, FIX_KEY, NULL, FIX_SHA256_HEX},
    {SHA256, B64, FIX_KEY, NULL, FIX_SHA256_B64},
    {SHA1, HEX, FIX_KEY, NULL, FIX_SHA1_HEX},
    {SHA1, B64, FIX_KEY, NULL, FIX_SHA1_B64},
    {SHA512, HEX, FIX_KEY, NULL, FIX_SHA512_HEX},
    {SHA512, B64, FIX_KEY, NULL, FIX_SHA512_B64},
    {MD5, HEX, FIX_KEY, NULL, FIX_MD5_HEX},
    {MD5, B64, FIX_KEY, NULL, FIX_MD5_B64},
    {SHA256, HEX, "key", "", EMPTY_SHA256_HEX},
};

static void test_known_answers(void **state)
{
    (void)state;
    size_t fixture_len;
    char *fixture = read_fixture(FIXTURE, &fixture_len);
    for (size_t i = 0; i < COUNT(kat_cases); i++) {
        const struct kat_case *c = &kat_cases[i];
        struct conf_spec spec = {ARB_SIG_ENFORCE, c->algorithm, c->encoding, "", {{NULL, c->key}}};
        struct arb_signature_conf conf = make_conf(&spec);
        struct arb_error err = {0};
        const char *body = c->body ? c->body : fixture;
        size_t len = c->body ? strlen(c->body) : fixture_len;
        char out[ARB_SIG_TEXT_MAX];

        if (arb_signature_sign(&conf, NULL, body, len, out, sizeof(out), &err) != 0)
            fail_msg("row %zu: sign failed: %s", i, err.message);
        if (strcmp(out, c->expected) != 0)
            fail_msg("row %zu: signed \"%s\", want \"%s\"", i, out, c->expected);
        if (arb_signature_verify(&conf, NULL, c->expected, NULL, body, len, &err) != 0)
            fail_msg("row %zu: verify failed: %s", i, err.message);
        arb_signature_conf_clear(&conf);
    }
    free(fixture);
}

/* ---- verify: one row per option and failure ---- */

#define ONE(alg, enc, prefix, key) {ARB_SIG_ENFORCE, alg, enc, prefix, {{NULL, key}}}
#define TC2_HEX ONE(SHA256, HEX, "", TC2_KEY)
#define TC2_BASE64 ONE(SHA256, B64, "", TC2_KEY)
#define TC2_PREFIXED ONE(SHA256, HEX, "sha256=", TC2_KEY)
#define OFF {ARB_SIG_OFF, SHA256, HEX, "", {{NULL, TC2_KEY}}}
#define ROTATING(a, b) {ARB_SIG_ENFORCE, SHA256, HEX, "", {{NULL, a}, {NULL, b}}}
/* Two named secrets, k2 the right one, plus one without a name. */
#define NAMED(...)                                                                              \
    {ARB_SIG_ENFORCE, SHA256, HEX, "", {{"k1", "wrong-secret-1"}, {"k2", TC2_KEY}, __VA_ARGS__}}

#define E_MISSING "signature header missing"
#define E_EMPTY "signature header empty"
#define E_PREFIX "signature lacks the configured prefix"
#define E_HEX "signature malformed for hex"
#define E_B64 "signature malformed for base64"
#define E_MISMATCH "signature does not match"
#define E_KEY_ID "no secret has the presented key id"

struct verify_case {
    const char *name;
    struct conf_spec conf;
    const char *sig;    /* NULL: header absent */
    const char *key_id; /* NULL: key header absent */
    const char *body;
    const char *message; /* NULL: valid */
};

static const struct verify_case verify_cases[] = {
    /* encodings */
    {"hex lower", TC2_HEX, TC2_SHA256_HEX, NULL, TC2_DATA, NULL},
    {"hex upper", TC2_HEX, TC2_SHA256_HEX_UPPER, NULL, TC2_DATA, NULL},
    {"hex mixed case", TC2_HEX, TC2_SHA256_HEX_MIXED, NULL, TC2_DATA, NULL},
    {"base64 padded", TC2_BASE64, TC2_SHA256_B64, NULL, TC2_DATA, NULL},
    {"base64 unpadded", TC2_BASE64, TC2_SHA256_B64_NOPAD, NULL, TC2_DATA, NULL},
    {"sha512 base64 padded", ONE(SHA512, B64, "", TC2_KEY), TC2_SHA512_B64, NULL, TC2_DATA, NULL},
    {"sha512 base64 unpadded", ONE(SHA512, B64, "", TC2_KEY), TC2_SHA512_B64_NOPAD, NULL, TC2_DATA,
     NULL},
    {"sha512 base64 half padding", ONE(SHA512, B64, "", TC2_KEY), TC2_SHA512_B64_ONEPAD, NULL,
     TC2_DATA, E_B64},
    {"sha512 base64url alphabet", ONE(SHA512, B64, "", TC2_KEY), TC2_SHA512_B64URL, NULL, TC2_DATA,
     E_B64},
    {"md5 base64 unpadded", ONE(MD5, B64, "", TC2_KEY), TC2_MD5_B64_NOPAD, NULL, TC2_DATA, NULL},
    {"sha1 hex", ONE(SHA1, HEX, "", TC2_KEY), TC2_SHA1_HEX, NULL, TC2_DATA, NULL},
    {"md5 hex", ONE(MD5, HEX, "", TC2_KEY), TC2_MD5_HEX, NULL, TC2_DATA, NULL},
    /* missing, empty, malformed */
    {"header missing", TC2_HEX, NULL, NULL, TC2_DATA, E_MISSING},
    {"header empty", TC2_HEX, "", NULL, TC2_DATA, E_EMPTY},
    {"base64 header missing", TC2_BASE64, NULL, NULL, TC2_DATA, E_MISSING},
    {"hex one char short", TC2_HEX,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384", NULL, TC2_DATA, E_HEX},
    {"hex one char long", TC2_HEX, TC2_SHA256_HEX "3", NULL, TC2_DATA, E_HEX},
    {"hex non-hex char", TC2_HEX,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384g", NULL, TC2_DATA, E_HEX},
    {"hex with space", TC2_HEX, " " TC2_SHA256_HEX, NULL, TC2_DATA, E_HEX},
    {"hex with newline", TC2_HEX, TC2_SHA256_HEX "\n", NULL, TC2_DATA, E_HEX},
    {"sha1-sized hex for sha256", TC2_HEX, TC2_SHA1_HEX, NULL, TC2_DATA, E_HEX},
    {"sha256 hex for sha512", ONE(SHA512, HEX, "", TC2_KEY), TC2_SHA256_HEX, NULL, TC2_DATA, E_HEX},
    {"base64 given as hex", TC2_HEX, TC2_SHA256_B64, NULL, TC2_DATA, E_HEX},
    {"hex given as base64", TC2_BASE64, TC2_SHA256_HEX, NULL, TC2_DATA, E_B64},
    {"base64 bad char", TC2_BASE64, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOE*=", NULL, TC2_DATA,
     E_B64},
    {"base64 '=' inside", TC2_BASE64, "W9zBRr9gdU5qBCQmCJV1x1oAP=idJzmDnexYuWTsOEM=", NULL,
     TC2_DATA, E_B64},
    {"base64 too short", TC2_BASE64, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOE", NULL, TC2_DATA,
     E_B64},
    {"base64 too long", TC2_BASE64, TC2_SHA256_B64 "AAAA", NULL, TC2_DATA, E_B64},
    {"base64 with space", TC2_BASE64, " " TC2_SHA256_B64_NOPAD, NULL, TC2_DATA, E_B64},
    /* wrong values */
    {"last hex digit changed", TC2_HEX,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3842", NULL, TC2_DATA,
     E_MISMATCH},
    {"first base64 char changed", TC2_BASE64, "X9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=", NULL,
     TC2_DATA, E_MISMATCH},
    {"one bit of body", TC2_HEX, TC2_SHA256_HEX, NULL, "what do ya want for nothing>", E_MISMATCH},
    {"body truncated", TC2_HEX, TC2_SHA256_HEX, NULL, "what do ya want for nothing", E_MISMATCH},
    {"wrong secret", ONE(SHA256, HEX, "", "not-jefe"), TC2_SHA256_HEX, NULL, TC2_DATA, E_MISMATCH},
    {"another 32-byte digest", ONE(SHA256, HEX, "", TC2_KEY),
     "cfe0bd1718d03df7265c5dc542d1c600a65e63a3ff2bb828a647e2cff8db8c0c", NULL, TC2_DATA,
     E_MISMATCH},
    {"md5 hex under sha1", ONE(SHA1, HEX, "", TC2_KEY), TC2_MD5_HEX, NULL, TC2_DATA, E_HEX},
    /* prefix */
    {"prefix present", TC2_PREFIXED, "sha256=" TC2_SHA256_HEX, NULL, TC2_DATA, NULL},
    {"prefix upper-case digest", TC2_PREFIXED, "sha256=" TC2_SHA256_HEX_UPPER, NULL, TC2_DATA,
     NULL},
    {"prefix absent", TC2_PREFIXED, TC2_SHA256_HEX, NULL, TC2_DATA, E_PREFIX},
    {"prefix other", TC2_PREFIXED, "sha1=" TC2_SHA256_HEX, NULL, TC2_DATA, E_PREFIX},
    {"prefix case differs", TC2_PREFIXED, "SHA256=" TC2_SHA256_HEX, NULL, TC2_DATA, E_PREFIX},
    {"prefix only", TC2_PREFIXED, "sha256=", NULL, TC2_DATA, E_HEX},
    {"prefix twice", TC2_PREFIXED, "sha256=sha256=" TC2_SHA256_HEX, NULL, TC2_DATA, E_HEX},
    {"prefix with wrong digest", TC2_PREFIXED,
     "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3842", NULL, TC2_DATA,
     E_MISMATCH},
    {"no prefix configured, one sent", TC2_HEX, "sha256=" TC2_SHA256_HEX, NULL, TC2_DATA, E_HEX},
    {"base64 with prefix", ONE(SHA256, B64, "v1,", TC2_KEY), "v1," TC2_SHA256_B64, NULL, TC2_DATA,
     NULL},
    /* several secrets: any match passes */
    {"rotation: new first", ROTATING(TC2_KEY, "old-secret"), TC2_SHA256_HEX, NULL, TC2_DATA, NULL},
    {"rotation: new second", ROTATING("old-secret", TC2_KEY), TC2_SHA256_HEX, NULL, TC2_DATA,
     NULL},
    {"rotation: neither", ROTATING("old-secret", "new-secret"), TC2_SHA256_HEX, NULL, TC2_DATA,
     E_MISMATCH},
    /* key ids: a known id tries only that secret, an unknown one fails, none tries all */
    {"key id of the right secret", NAMED({0}), TC2_SHA256_HEX, "k2", TC2_DATA, NULL},
    {"key id of another secret", NAMED({0}), TC2_SHA256_HEX, "k1", TC2_DATA, E_MISMATCH},
    {"unknown key id", NAMED({0}), TC2_SHA256_HEX, "k3", TC2_DATA, E_KEY_ID},
    {"key id prefix of a name", NAMED({0}), TC2_SHA256_HEX, "k", TC2_DATA, E_KEY_ID},
    {"key id case differs", NAMED({0}), TC2_SHA256_HEX, "K2", TC2_DATA, E_KEY_ID},
    {"no key id: all secrets", NAMED({0}), TC2_SHA256_HEX, NULL, TC2_DATA, NULL},
    {"empty key id: all secrets", NAMED({0}), TC2_SHA256_HEX, "", TC2_DATA, NULL},
    {"key id skips unnamed secret", NAMED({NULL, TC2_KEY}), TC2_SHA256_HEX, "k1", TC2_DATA,
     E_MISMATCH},
    {"key id, only unnamed secrets", ROTATING(TC2_KEY, "old-secret"), TC2_SHA256_HEX, "k1",
     TC2_DATA, E_KEY_ID},
    {"key id of the right secret, malformed", NAMED({0}), "zz", "k2", TC2_DATA, E_HEX},
    {"key id given, header missing", NAMED({0}), NULL, "k2", TC2_DATA, E_MISSING},
    /* mode off passes anything */
    {"off: valid", OFF, TC2_SHA256_HEX, NULL, TC2_DATA, NULL},
    {"off: missing", OFF, NULL, NULL, TC2_DATA, NULL},
    {"off: empty", OFF, "", NULL, TC2_DATA, NULL},
    {"off: garbage", OFF, "not a signature", NULL, TC2_DATA, NULL},
    {"off: wrong", OFF, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3842", NULL,
     TC2_DATA, NULL},
    {"off: unknown key id", OFF, TC2_SHA256_HEX, "k9", TC2_DATA, NULL},
};

/* Every case, with the secrets' HMAC contexts prepared (state non-NULL) or not. */
static void run_verify_cases(bool prepared)
{
    for (size_t i = 0; i < COUNT(verify_cases); i++) {
        const struct verify_case *c = &verify_cases[i];
        struct arb_signature_conf conf = make_conf(&c->conf);
        struct arb_error err = {0};
        if (prepared)
            assert_int_equal(arb_signature_prepare(&conf, &err), 0);
        int rc = arb_signature_verify(&conf, NULL, c->sig, c->key_id, c->body, strlen(c->body), &err);
        arb_signature_conf_clear(&conf);

        if (c->message == NULL) {
            if (rc != 0)
                fail_msg("%s: want valid, got \"%s\"", c->name, err.message);
            continue;
        }
        if (rc != -1 || err.code != ARB_E_SIGNATURE || strcmp(err.message, c->message) != 0)
            fail_msg("%s: want \"%s\", got rc %d code %d \"%s\"", c->name, c->message, rc,
                     (int)err.code, err.message);
        assert_false(err.retriable);
        assert_no_echo(&c->conf, c->sig, err.message);
    }
}

static void test_verify(void **state)
{
    (void)state;
    run_verify_cases(false);
}

static void test_verify_prepared(void **state)
{
    (void)state;
    run_verify_cases(true);
}

/* Flipping any one bit of the body, at the start, the middle and the end, fails. */
static void test_body_bit_flips(void **state)
{
    (void)state;
    struct conf_spec spec = ONE(SHA256, HEX, "", FIX_KEY);
    struct arb_signature_conf conf = make_conf(&spec);
    size_t len;
    char *body = read_fixture(FIXTURE, &len);
    const size_t positions[] = {0, 1, len / 2, len - 2, len - 1};
    struct arb_error err = {0};

    assert_int_equal(arb_signature_verify(&conf, NULL, FIX_SHA256_HEX, NULL, body, len, &err), 0);
    for (size_t p = 0; p < COUNT(positions); p++) {
        for (int bit = 0; bit < 8; bit++) {
            body[positions[p]] ^= (char)(1 << bit);
            int rc = arb_signature_verify(&conf, NULL, FIX_SHA256_HEX, NULL, body, len, &err);
            body[positions[p]] ^= (char)(1 << bit);
            if (rc != -1 || strcmp(err.message, E_MISMATCH) != 0)
                fail_msg("byte %zu bit %d: rc %d \"%s\"", positions[p], bit, rc, err.message);
        }
    }
    /* and the signature text itself: every character changed to another valid hex digit */
    for (size_t i = 0; i < strlen(FIX_SHA256_HEX); i++) {
        char sig[] = FIX_SHA256_HEX;
        sig[i] = sig[i] == '0' ? '1' : '0';
        assert_int_equal(arb_signature_verify(&conf, NULL, sig, NULL, body, len, &err), -1);
        assert_string_equal(err.message, E_MISMATCH);
    }
    free(body);
    arb_signature_conf_clear(&conf);
}

/* ---- sign: round trips for every algorithm x encoding, with and without prefix ---- */

static size_t digest_size(enum arb_sig_algorithm algorithm)
{
    switch (algorithm) {
    case ARB_SIG_SHA1: return 20;
    case ARB_SIG_SHA512: return 64;
    case ARB_SIG_MD5: return 16;
    case ARB_SIG_SHA256: break;
    }
    return 32;
}

static void test_sign_round_trip(void **state)
{
    (void)state;
    static const enum arb_sig_algorithm algorithms[] = {SHA256, SHA1, SHA512, MD5};
    static const enum arb_sig_encoding encodings[] = {HEX, B64};
    static const char *const prefixes[] = {"", "sha256=", "v1,"};
    static const char body[] = "{\"event\":\"e\",\"call_id\":\"c\",\"text\":\"\xe4\xbd\xa0\"}";

    for (size_t a = 0; a < COUNT(algorithms); a++)
        for (size_t e = 0; e < COUNT(encodings); e++)
            for (size_t p = 0; p < COUNT(prefixes); p++) {
                struct conf_spec spec = {ARB_SIG_ENFORCE, algorithms[a], encodings[e], prefixes[p],
                                         {{"k1", "first-secret"}, {"k2", "second-secret"}}};
                struct arb_signature_conf conf = make_conf(&spec);
                struct arb_error err = {0};
                char out[16 + ARB_SIG_TEXT_MAX];
                size_t n = digest_size(algorithms[a]);
                size_t want_len = strlen(prefixes[p]) + (encodings[e] == HEX ? 2 * n
                                                                               : 4 * ((n + 2) / 3));

                char unprepared[16 + ARB_SIG_TEXT_MAX];

                assert_int_equal(arb_signature_sign(&conf, NULL, body, strlen(body), unprepared,
                                                    sizeof(unprepared), &err), 0);
                /* the prepared contexts give the same signature */
                assert_int_equal(arb_signature_prepare(&conf, &err), 0);
                assert_int_equal(arb_signature_sign(&conf, NULL, body, strlen(body), out, sizeof(out),
                                                    &err), 0);
                assert_string_equal(out, unprepared);
                /* and so does a thread's own context, reset for each of several bodies */
                struct arb_signature_ctx *ctx = arb_signature_ctx_new(&conf);
                for (int round = 0; round < 3; round++) {
                    char reused[16 + ARB_SIG_TEXT_MAX];
                    assert_int_equal(arb_signature_sign(&conf, ctx, body, strlen(body), reused,
                                                        sizeof(reused), &err), 0);
                    assert_string_equal(reused, unprepared);
                    assert_int_equal(arb_signature_verify(&conf, ctx, out, "k2", body,
                                                          strlen(body), &err), -1);
                    assert_int_equal(arb_signature_verify(&conf, ctx, out, NULL, body,
                                                          strlen(body), &err), 0);
                    assert_int_equal(arb_signature_verify(&conf, ctx, out, NULL, body,
                                                          strlen(body) - 1, &err), -1);
                }
                arb_signature_ctx_destroy(ctx);
                assert_int_equal(strlen(out), want_len);
                assert_memory_equal(out, prefixes[p], strlen(prefixes[p]));
                assert_int_equal(arb_signature_verify(&conf, NULL, out, NULL, body, strlen(body), &err),
                                 0);
                /* signed with the first secret: its key id passes, the other's does not */
                assert_int_equal(arb_signature_verify(&conf, NULL, out, "k1", body, strlen(body), &err),
                                 0);
                assert_int_equal(arb_signature_verify(&conf, NULL, out, "k2", body, strlen(body), &err),
                                 -1);
                assert_string_equal(err.message, E_MISMATCH);
                assert_int_equal(
                    arb_signature_verify(&conf, NULL, out, NULL, body, strlen(body) - 1, &err), -1);
                assert_string_equal(err.message, E_MISMATCH);
                arb_signature_conf_clear(&conf);
            }
}

static void test_sign_errors(void **state)
{
    (void)state;
    struct conf_spec none = {ARB_SIG_ENFORCE, SHA256, HEX, "sha256=", {{0}}};
    struct conf_spec one = TC2_PREFIXED;
    struct arb_signature_conf conf = make_conf(&none);
    struct arb_error err = {0};
    char out[7 + ARB_SIG_TEXT_MAX];

    assert_int_equal(arb_signature_sign(&conf, NULL, "x", 1, out, sizeof(out), &err), -1);
    assert_int_equal(err.code, ARB_E_INVALID);
    assert_string_equal(err.message, "no secret to sign with");
    arb_signature_conf_clear(&conf);

    conf = make_conf(&one);
    assert_int_equal(arb_signature_sign(&conf, NULL, "x", 1, out, sizeof(out) - 1, &err), -1);
    assert_int_equal(err.code, ARB_E_INVALID);
    assert_string_equal(err.message, "signature buffer too small");
    assert_int_equal(arb_signature_sign(&conf, NULL, TC2_DATA, strlen(TC2_DATA), out, sizeof(out), &err),
                     0);
    assert_string_equal(out, "sha256=" TC2_SHA256_HEX);
    arb_signature_conf_clear(&conf);
    arb_signature_conf_clear(&conf); /* a cleared conf can be cleared again */
    arb_signature_conf_clear(NULL);
}

/* ---- configuration names ---- */

struct name_case {
    const char *name;
    int (*parse)(const char *name, int *out);
    int want; /* -1: unknown name */
};

/* The parse functions take an enum pointer; wrap them to share one table. */
static int parse_mode(const char *name, int *out)
{
    enum arb_sig_mode v = ARB_SIG_ENFORCE;
    int rc = arb_sig_mode_parse(name, &v);
    *out = (int)v;
    return rc;
}

static int parse_algorithm(const char *name, int *out)
{
    enum arb_sig_algorithm v = ARB_SIG_SHA256;
    int rc = arb_sig_algorithm_parse(name, &v);
    *out = (int)v;
    return rc;
}

static int parse_encoding(const char *name, int *out)
{
    enum arb_sig_encoding v = ARB_SIG_HEX;
    int rc = arb_sig_encoding_parse(name, &v);
    *out = (int)v;
    return rc;
}

static const struct name_case name_cases[] = {
    {"enforce", parse_mode, ARB_SIG_ENFORCE},
    {"off", parse_mode, ARB_SIG_OFF},
    {"OFF", parse_mode, ARB_SIG_OFF},
    {"", parse_mode, -1},
    {"none", parse_mode, -1},
    {"sha256", parse_algorithm, SHA256},
    {"sha1", parse_algorithm, SHA1},
    {"sha512", parse_algorithm, SHA512},
    {"md5", parse_algorithm, MD5},
    {"SHA256", parse_algorithm, SHA256},
    {"sha384", parse_algorithm, -1},
    {"sha-256", parse_algorithm, -1},
    {"hex", parse_encoding, HEX},
    {"base64", parse_encoding, B64},
    {"Base64", parse_encoding, B64},
    {"base64url", parse_encoding, -1},
};

static void test_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(name_cases); i++) {
        int got = -7;
        int rc = name_cases[i].parse(name_cases[i].name, &got);
        if (name_cases[i].want < 0 ? rc != -1 : (rc != 0 || got != name_cases[i].want))
            fail_msg("name \"%s\": rc %d value %d, want %d", name_cases[i].name, rc, got,
                     name_cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_verify_prepared),
        cmocka_unit_test(test_body_bit_flips),
        cmocka_unit_test(test_sign_round_trip),
        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
