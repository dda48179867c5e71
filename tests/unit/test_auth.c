/* test_auth.c - authenticating webhook senders (core/auth.c), one table for every way an
 * endpoint authenticates: signature (valid, wrong, missing, repeated, key ids, over-long
 * headers, trimmed), token in the path and in a header, HTTP Basic, none. Each case runs
 * without HMAC contexts, with prepared ones and with a thread's own (arb_signature_ctx_new):
 * the verdict must be the same. Refusals name the problem and echo no secret and nothing the
 * request presented. Expected signatures are known answers, from
 * `printf '{"call_id":"c"}' | openssl dgst -sha256 -hmac KEY`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arb/auth.h"
#include "arb/signature.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define BODY "{\"call_id\":\"c\"}"
#define SIG_TOP "ab05a06853f2c12ec45237f1f0f80f08a83ad9953f94ce47890d67bdf4364c7c"
#define SIG_ONE "21ca6aa51c35da41e4d2264b2dace7c8ff1cc8bf1ea4aae230b8e4d35fd895c6"
#define SIG_TWO "97d7521269d500c76dc343a54e5f68985a7919065fc53b532eb45c97d09666a0"
#define SIG_TOP_UPPER "AB05A06853F2C12EC45237F1F0F80F08A83AD9953F94CE47890D67BDF4364C7C"
/* SIG_TOP with its last digit changed */
#define SIG_TOP_WRONG "ab05a06853f2c12ec45237f1f0f80f08a83ad9953f94ce47890d67bdf4364c7d"

/* base64 of user:password */
#define ALICE "YWxpY2U6d29uZGVyOmxhbmQ=" /* alice:wonder:land */
#define BOB "Ym9iOmJ1aWxkZXI="           /* bob:builder */
#define CAROL "Y2Fyb2w6YnVpbGRlcg=="     /* carol:builder */
#define ALICE_BOBS "YWxpY2U6YnVpbGRlcg=="  /* alice:builder */
#define ALICE_WRONG "YWxpY2U6d3Jvbmc="   /* alice:wrong */
#define NO_COLON "YWxpY2V3b25kZXJsYW5k"  /* alicewonderland */
#define BOB_EMPTY "Ym9iOg=="             /* bob: */
#define BOB_LONGER "Ym9iOmJ1aWxkZXJ4"    /* bob:builderx */
#define BOB_SHORTER "Ym9iOmJ1aWxkZQ=="   /* bob:builde */

#define MISMATCH "signature does not match"

static const char conf_text[] =
    "signature = { secrets = [ \"top-secret\" ]; };\n"
    "endpoints = (\n"
    "  { path = \"/sig\"; },\n"
    "  { path = \"/sig-keyed\"; signature = { key_header = \"X-Key\";\n"
    "      secrets = ( { id = \"k1\"; secret = \"one\"; },\n"
    "                  { id = \"k2\"; secret = \"two\"; } ); }; },\n"
    "  { path = \"/sig-off\"; signature = { mode = \"off\"; }; },\n"
    "  { path = \"/tok/{token}\"; auth = \"token\";\n"
    "    token = { secrets = [ \"path-token\", \"old-token\" ]; }; },\n"
    "  { path = \"/tok-header\"; auth = \"token\";\n"
    "    token = { header = \"X-Token\"; secrets = [ \"header-token\" ]; }; },\n"
    "  { path = \"/basic\"; auth = \"basic\"; basic = { users = (\n"
    "      { user = \"alice\"; password = \"wonder:land\"; },\n"
    "      { user = \"bob\"; password = \"builder\"; } ); }; },\n"
    "  { path = \"/open\"; auth = \"none\"; }\n"
    ");\n";

enum { SIG, SIG_KEYED, SIG_OFF, TOKEN_PATH, TOKEN_HEADER, BASIC, OPEN };

/* Nothing of these may be in a refusal. */
static const char *const secrets[] = {"top-secret", "path-token", "old-token", "header-token",
                                      "wonder:land", "builder"};

struct header_spec {
    const char *value; /* NULL: absent */
    unsigned count;
};
#define ONCE(v) {v, 1}
#define TWICE(v) {v, 2}

/* Over HEADER_MAX (1024) once trimmed, and a valid signature inside 2000 spaces and tabs:
 * filled in by setup. */
static char too_long[1100];
static char padded_sig[2100];

struct auth_case {
    const char *name;
    int endpoint;
    struct header_spec signature, key_id, token, authorization;
    const char *path_token;
    enum arb_errcode code; /* ARB_E_OK: accepted */
    const char *reason;    /* the exact message */
};

static const struct auth_case cases[] = {
    /* signature */
    {"signature valid", SIG, .signature = ONCE(SIG_TOP)},
    {"signature in capitals", SIG, .signature = ONCE(SIG_TOP_UPPER)},
    {"signature between spaces and tabs", SIG, .signature = ONCE(" \t" SIG_TOP "\t ")},
    {"signature inside 2000 blanks: trimmed first", SIG, .signature = ONCE(padded_sig)},
    {"signature wrong", SIG, .signature = ONCE(SIG_TOP_WRONG), .code = ARB_E_SIGNATURE,
     .reason = MISMATCH},
    {"signature of another secret", SIG, .signature = ONCE(SIG_ONE), .code = ARB_E_SIGNATURE,
     .reason = MISMATCH},
    {"signature missing", SIG, .code = ARB_E_SIGNATURE, .reason = "signature header missing"},
    {"signature empty", SIG, .signature = ONCE(""), .code = ARB_E_SIGNATURE,
     .reason = "signature header empty"},
    {"signature of blanks", SIG, .signature = ONCE(" \t "), .code = ARB_E_SIGNATURE,
     .reason = "signature header empty"},
    {"signature truncated", SIG, .signature = ONCE("ab05a06853f2"), .code = ARB_E_SIGNATURE,
     .reason = "signature malformed for hex"},
    {"blanks inside the signature", SIG, .signature = ONCE("ab05a068 53f2c12e"),
     .code = ARB_E_SIGNATURE, .reason = "signature malformed for hex"},
    {"signature repeated, the first valid", SIG, .signature = TWICE(SIG_TOP),
     .code = ARB_E_SIGNATURE, .reason = "signature header repeated"},
    {"signature over-long", SIG, .signature = ONCE(too_long), .code = ARB_E_SIGNATURE,
     .reason = "signature header too long"},
    {"a token or credentials do not stand for a signature", SIG,
     .token = ONCE("top-secret"), .authorization = ONCE("Basic " BOB), .path_token = "x",
     .code = ARB_E_SIGNATURE, .reason = "signature header missing"},
    /* signature with key ids */
    {"key id names the secret", SIG_KEYED, .signature = ONCE(SIG_TWO), .key_id = ONCE("k2")},
    {"key id trimmed", SIG_KEYED, .signature = ONCE(SIG_ONE), .key_id = ONCE("\t k1 ")},
    {"no key id: every secret tried", SIG_KEYED, .signature = ONCE(SIG_TWO)},
    {"key id names another secret", SIG_KEYED, .signature = ONCE(SIG_TWO), .key_id = ONCE("k1"),
     .code = ARB_E_SIGNATURE, .reason = MISMATCH},
    {"key id unknown", SIG_KEYED, .signature = ONCE(SIG_TWO), .key_id = ONCE("k3"),
     .code = ARB_E_SIGNATURE, .reason = "no secret has the presented key id"},
    {"key id empty: every secret tried", SIG_KEYED, .signature = ONCE(SIG_TWO),
     .key_id = ONCE("")},
    {"key id of blanks: every secret tried", SIG_KEYED, .signature = ONCE(SIG_ONE),
     .key_id = ONCE("  ")},
    {"key id repeated", SIG_KEYED, .signature = ONCE(SIG_TWO), .key_id = TWICE("k2"),
     .code = ARB_E_SIGNATURE, .reason = "key id header repeated"},
    {"key id over-long", SIG_KEYED, .signature = ONCE(SIG_TWO), .key_id = ONCE(too_long),
     .code = ARB_E_SIGNATURE, .reason = "key id header too long"},
    {"the top-level secret is not this endpoint's", SIG_KEYED, .signature = ONCE(SIG_TOP),
     .code = ARB_E_SIGNATURE, .reason = MISMATCH},
    /* signature mode off */
    {"mode off, no signature", SIG_OFF, .code = ARB_E_OK},
    {"mode off, a wrong one", SIG_OFF, .signature = ONCE(SIG_TOP_WRONG)},
    {"mode off, repeated", SIG_OFF, .signature = TWICE("x")},
    /* token in the path */
    {"path token right", TOKEN_PATH, .path_token = "path-token"},
    {"path token, the other secret", TOKEN_PATH, .path_token = "old-token"},
    {"path token wrong", TOKEN_PATH, .path_token = "wrong-token", .code = ARB_E_AUTH,
     .reason = "token does not match"},
    {"path token, a prefix of the secret", TOKEN_PATH, .path_token = "path-toke",
     .code = ARB_E_AUTH, .reason = "token does not match"},
    {"path token, the secret and more", TOKEN_PATH, .path_token = "path-tokenX",
     .code = ARB_E_AUTH, .reason = "token does not match"},
    {"path token in another case", TOKEN_PATH, .path_token = "PATH-TOKEN", .code = ARB_E_AUTH,
     .reason = "token does not match"},
    {"path token missing", TOKEN_PATH, .code = ARB_E_AUTH,
     .reason = "token missing from the path"},
    {"path token empty", TOKEN_PATH, .path_token = "", .code = ARB_E_AUTH,
     .reason = "token missing from the path"},
    {"path token endpoint ignores a token header", TOKEN_PATH, .token = ONCE("path-token"),
     .code = ARB_E_AUTH, .reason = "token missing from the path"},
    /* token in a header */
    {"header token right", TOKEN_HEADER, .token = ONCE("header-token")},
    {"header token trimmed", TOKEN_HEADER, .token = ONCE("  header-token\t")},
    {"header token wrong", TOKEN_HEADER, .token = ONCE("header-tokem"), .code = ARB_E_AUTH,
     .reason = "token does not match"},
    {"header token with a blank inside", TOKEN_HEADER, .token = ONCE("header -token"),
     .code = ARB_E_AUTH, .reason = "token does not match"},
    {"header token missing", TOKEN_HEADER, .code = ARB_E_AUTH, .reason = "token header missing"},
    {"header token repeated", TOKEN_HEADER, .token = TWICE("header-token"), .code = ARB_E_AUTH,
     .reason = "token header repeated"},
    {"header token empty", TOKEN_HEADER, .token = ONCE(""), .code = ARB_E_AUTH,
     .reason = "token empty"},
    {"header token of blanks", TOKEN_HEADER, .token = ONCE(" \t "), .code = ARB_E_AUTH,
     .reason = "token empty"},
    {"header token over-long", TOKEN_HEADER, .token = ONCE(too_long), .code = ARB_E_AUTH,
     .reason = "token header too long"},
    {"header token endpoint ignores the path", TOKEN_HEADER, .path_token = "header-token",
     .code = ARB_E_AUTH, .reason = "token header missing"},
    /* basic */
    {"basic: a password with a colon", BASIC, .authorization = ONCE("Basic " ALICE)},
    {"basic: another user", BASIC, .authorization = ONCE("Basic " BOB)},
    {"basic: the scheme in any case", BASIC, .authorization = ONCE("bASIC " BOB)},
    {"basic: spaces after the scheme, blanks around", BASIC,
     .authorization = ONCE(" \tBasic   " BOB " ")},
    {"basic: wrong password", BASIC, .authorization = ONCE("Basic " ALICE_WRONG),
     .code = ARB_E_AUTH, .reason = "credentials do not match"},
    {"basic: another user's password", BASIC, .authorization = ONCE("Basic " ALICE_BOBS),
     .code = ARB_E_AUTH, .reason = "credentials do not match"},
    {"basic: unknown user", BASIC, .authorization = ONCE("Basic " CAROL), .code = ARB_E_AUTH,
     .reason = "credentials do not match"},
    {"basic: empty password", BASIC, .authorization = ONCE("Basic " BOB_EMPTY),
     .code = ARB_E_AUTH, .reason = "credentials do not match"},
    {"basic: the password and more", BASIC, .authorization = ONCE("Basic " BOB_LONGER),
     .code = ARB_E_AUTH, .reason = "credentials do not match"},
    {"basic: a prefix of the password", BASIC, .authorization = ONCE("Basic " BOB_SHORTER),
     .code = ARB_E_AUTH, .reason = "credentials do not match"},
    {"basic: not base64", BASIC, .authorization = ONCE("Basic !!!!"), .code = ARB_E_AUTH,
     .reason = "credentials malformed"},
    {"basic: base64 cut short", BASIC, .authorization = ONCE("Basic Ym9iOmJ1aWxkZXI=x"),
     .code = ARB_E_AUTH, .reason = "credentials malformed"},
    {"basic: no scheme", BASIC, .authorization = ONCE(BOB), .code = ARB_E_AUTH,
     .reason = "credentials malformed"},
    {"basic: another scheme", BASIC, .authorization = ONCE("Bearer " BOB), .code = ARB_E_AUTH,
     .reason = "credentials malformed"},
    {"basic: the scheme without its space", BASIC, .authorization = ONCE("Basic" BOB),
     .code = ARB_E_AUTH, .reason = "credentials malformed"},
    {"basic: the scheme alone", BASIC, .authorization = ONCE("Basic "), .code = ARB_E_AUTH,
     .reason = "credentials malformed"},
    {"basic: no colon", BASIC, .authorization = ONCE("Basic " NO_COLON), .code = ARB_E_AUTH,
     .reason = "credentials malformed"},
    {"basic: missing", BASIC, .code = ARB_E_AUTH, .reason = "credentials missing"},
    {"basic: repeated", BASIC, .authorization = TWICE("Basic " BOB), .code = ARB_E_AUTH,
     .reason = "authorization header repeated"},
    {"basic: over-long", BASIC, .authorization = ONCE(too_long), .code = ARB_E_AUTH,
     .reason = "credentials malformed"},
    /* none */
    {"none: nothing presented", OPEN, .code = ARB_E_OK},
    {"none: anything presented", OPEN, .signature = TWICE("x"), .token = ONCE("y"),
     .authorization = ONCE("Basic !!!")},
};

static struct arb_bridge_conf *conf;

static int setup(void **state)
{
    memset(too_long, 'a', sizeof(too_long) - 1);
    memset(padded_sig, ' ', sizeof(padded_sig) - 1);
    for (size_t i = 0; i < 1000; i += 2)
        padded_sig[i] = '\t';
    memcpy(padded_sig + 1000, SIG_TOP, strlen(SIG_TOP));
    *state = conf = bridge_conf_of(conf_text);
    return 0;
}

static struct arb_auth_header header_of(const struct header_spec *spec)
{
    return (struct arb_auth_header){spec->value, spec->value ? strlen(spec->value) : 0,
                                    spec->count};
}

static void assert_no_echo(const struct auth_case *c, const char *message)
{
    const struct header_spec *presented[] = {&c->signature, &c->key_id, &c->token,
                                             &c->authorization};
    for (size_t i = 0; i < COUNT(secrets); i++)
        if (strstr(message, secrets[i]) != NULL)
            fail_msg("\"%s\" echoes a secret", message);
    for (size_t i = 0; i < COUNT(presented); i++) {
        const char *value = presented[i]->value;
        if (value != NULL && strlen(value) >= 4 && strstr(message, value) != NULL)
            fail_msg("\"%s\" echoes what was presented", message);
    }
    if (c->path_token != NULL && strlen(c->path_token) >= 4 && strstr(message, c->path_token))
        fail_msg("\"%s\" echoes the path's token", message);
}

/* Every case, each endpoint verifying with contexts[endpoint] (NULL: none). */
static void run_cases(struct arb_signature_ctx *const *contexts, const char *how)
{
    for (size_t i = 0; i < COUNT(cases); i++) {
        const struct auth_case *c = &cases[i];
        const struct arb_auth_request req = {
            .signature = header_of(&c->signature),
            .key_id = header_of(&c->key_id),
            .token = header_of(&c->token),
            .authorization = header_of(&c->authorization),
            .path_token = c->path_token,
            .path_token_len = c->path_token != NULL ? strlen(c->path_token) : 0,
            .body = BODY,
            .len = strlen(BODY),
        };
        struct arb_error err = {0};
        print_message("case (%s): %s\n", how, c->name);
        int rc = arb_auth_check(&conf->endpoints[c->endpoint], contexts[c->endpoint], &req, &err);
        if (c->code == ARB_E_OK) {
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, c->code);
        assert_false(err.retriable);
        assert_string_equal(err.message, c->reason);
        assert_no_echo(c, err.message);
    }
}

static void test_without_contexts(void **state)
{
    (void)state;
    struct arb_signature_ctx *none[OPEN + 1] = {0};
    run_cases(none, "no HMAC contexts");
}

/* Prepared contexts, shared (ctx NULL) and a thread's own: the same verdicts. */
static void test_with_contexts(void **state)
{
    (void)state;
    struct arb_signature_ctx *none[OPEN + 1] = {0}, *own[OPEN + 1] = {0};
    struct arb_error err;
    assert_int_equal(arb_signature_prepare(&conf->signature, &err), 0);
    for (size_t i = 0; i < conf->nendpoints; i++) {
        struct arb_endpoint_conf *endpoint = &conf->endpoints[i];
        if (endpoint->has_signature)
            assert_int_equal(arb_signature_prepare(&endpoint->own_signature, &err), 0);
    }
    run_cases(none, "prepared, shared");
    for (size_t i = 0; i < conf->nendpoints; i++)
        if (conf->endpoints[i].auth == ARB_AUTH_SIGNATURE)
            own[i] = arb_signature_ctx_new(conf->endpoints[i].signature);
    assert_non_null(own[SIG]);
    assert_non_null(own[SIG_KEYED]);
    run_cases(own, "a thread's own");
    run_cases(own, "a thread's own, reused");
    for (size_t i = 0; i < conf->nendpoints; i++)
        arb_signature_ctx_destroy(own[i]);
}

/* The signature covers the body's bytes, all of them and only them. */
static void test_signature_over_the_body(void **state)
{
    (void)state;
    static const char body[] = BODY "  ";
    struct arb_auth_request req = {.signature = {SIG_TOP, strlen(SIG_TOP), 1}, .body = body};
    struct arb_error err;
    req.len = strlen(BODY);
    assert_int_equal(arb_auth_check(&conf->endpoints[SIG], NULL, &req, &err), 0);
    req.len = strlen(BODY) + 1;
    assert_int_equal(arb_auth_check(&conf->endpoints[SIG], NULL, &req, &err), -1);
    req.len = strlen(BODY) - 1;
    assert_int_equal(arb_auth_check(&conf->endpoints[SIG], NULL, &req, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_contexts),
        cmocka_unit_test(test_with_contexts),
        cmocka_unit_test(test_signature_over_the_body),
    };
    return cmocka_run_group_tests(tests, setup, bridge_conf_teardown);
}
