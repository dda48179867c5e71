/* test_config_endpoints.c - the bridge configuration's endpoints (core/conf_bridge.c): what
 * each listed endpoint becomes (path, event, schema, auth, its own signature group or the
 * top-level one, token, Basic users), the one endpoint of http.path without a list, and one
 * table of bad endpoint lists, each with the exact "file:line: message" list it must give;
 * then the budgets of http that conf_bridge.c checks across keys. Parsed from text
 * (support.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ENDPOINTS 6
#define MAX_EXPECTED 4

/* ---- what a list becomes ---------------------------------------------------------------- */

struct endpoint_spec {
    const char *path, *event;
    enum arb_schema schema;
    enum arb_auth auth;
    bool own_signature;   /* its own group, else the top-level one */
    const char *own_secret; /* the own group's first secret, when own_signature */
    const char *token_header;
    const char *token;    /* the first token, or NULL for none */
    const char *user, *password; /* the first user, or NULL for none */
};

struct good_case {
    const char *name;
    const char *text;
    struct endpoint_spec endpoints[MAX_ENDPOINTS]; /* up to the first without a path */
};

#define TOP "signature = { secrets = [ \"top\" ]; };\n"

static const struct good_case good_cases[] = {
    {"no list: the endpoint of http.path, with the top-level signature",
     TOP "http = { path = \"/hook\"; };\n",
     {{.path = "/hook", .event = "", .token_header = ""}}},
    {"no list, no http.path: its default", TOP, {{.path = "/v1/events", .event = "",
                                                  .token_header = ""}}},
    {"every schema and auth, each with what it needs",
     TOP
     "endpoints = (\n"
     "  { path = \"/a\"; },\n"
     "  { path = \"/wf\"; schema = \"workflow.session.end\"; event = \"session_end\";\n"
     "    signature = { secrets = [ \"own\" ]; header = \"X-Sig\"; }; },\n"
     "  { path = \"/t/{token}\"; schema = \"generic\"; auth = \"token\";\n"
     "    token = { secrets = [ \"tok\", \"old\" ]; }; },\n"
     "  { path = \"/h\"; auth = \"token\";\n"
     "    token = { header = \"X-Token\"; secrets = [ \"ht\" ]; }; },\n"
     "  { path = \"/b\"; auth = \"basic\";\n"
     "    basic = { users = ( { user = \"u\"; password = \"${ARB_TEST_SECRET}\"; } ); }; },\n"
     "  { path = \"/n\"; auth = \"none\"; }\n"
     ");\n",
     {{.path = "/a", .event = "", .token_header = ""},
      {.path = "/wf", .event = "session_end", .schema = ARB_SCHEMA_WORKFLOW_SESSION_END,
       .own_signature = true, .own_secret = "own", .token_header = ""},
      {.path = "/t/{token}", .event = "", .schema = ARB_SCHEMA_GENERIC, .auth = ARB_AUTH_TOKEN,
       .token_header = "", .token = "tok"},
      {.path = "/h", .event = "", .auth = ARB_AUTH_TOKEN, .token_header = "X-Token",
       .token = "ht"},
      {.path = "/b", .event = "", .auth = ARB_AUTH_BASIC, .token_header = "",
       .user = "u", .password = "env-secret"},
      {.path = "/n", .event = "", .auth = ARB_AUTH_NONE, .token_header = ""}}},
    {"names in any case", TOP
     "endpoints = ( { path = \"/x\"; schema = \"Generic\"; auth = \"NONE\"; } );\n",
     {{.path = "/x", .event = "", .schema = ARB_SCHEMA_GENERIC, .auth = ARB_AUTH_NONE,
       .token_header = ""}}},
    {"no endpoint verifies a signature: no top-level secret needed",
     "endpoints = ( { path = \"/n\"; auth = \"none\"; },\n"
     "              { path = \"/own\"; signature = { secrets = [ \"o\" ]; }; } );\n",
     {{.path = "/n", .event = "", .auth = ARB_AUTH_NONE, .token_header = ""},
      {.path = "/own", .event = "", .own_signature = true, .own_secret = "o",
       .token_header = ""}}},
    {"a signature group of its own, mode off, needs no secret",
     "endpoints = ( { path = \"/off\"; signature = { mode = \"off\"; }; } );\n",
     {{.path = "/off", .event = "", .own_signature = true, .token_header = ""}}},
};

static void check_endpoint(const struct arb_bridge_conf *conf,
                           const struct arb_endpoint_conf *e, const struct endpoint_spec *want)
{
    print_message("  endpoint %s\n", want->path);
    assert_string_equal(e->path, want->path);
    assert_string_equal(e->event, want->event);
    assert_int_equal(e->schema, want->schema);
    assert_int_equal(e->auth, want->auth);
    assert_int_equal(e->has_signature, want->own_signature);
    if (want->own_signature) {
        assert_ptr_equal(e->signature, &e->own_signature);
        if (want->own_secret != NULL) {
            assert_true(e->signature->nsecrets >= 1);
            assert_int_equal(e->signature->secrets[0].len, strlen(want->own_secret));
            assert_memory_equal(e->signature->secrets[0].value, want->own_secret,
                                strlen(want->own_secret));
        }
    } else {
        assert_ptr_equal(e->signature, &conf->signature);
    }
    assert_string_equal(e->token.header, want->token_header);
    if (want->token != NULL) {
        assert_true(e->token.nsecrets >= 1);
        assert_int_equal(e->token.secrets[0].len, strlen(want->token));
        assert_memory_equal(e->token.secrets[0].value, want->token, strlen(want->token));
    } else {
        assert_int_equal(e->token.nsecrets, 0);
    }
    if (want->user != NULL) {
        assert_int_equal(e->basic.nusers, 1);
        assert_string_equal(e->basic.users[0].user, want->user);
        assert_int_equal(e->basic.users[0].password_len, strlen(want->password));
        assert_memory_equal(e->basic.users[0].password, want->password, strlen(want->password));
    } else {
        assert_int_equal(e->basic.nusers, 0);
    }
}

static void test_endpoints_parsed(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(good_cases); i++) {
        const struct good_case *c = &good_cases[i];
        size_t n = 0;
        print_message("case: %s\n", c->name);
        struct arb_bridge_conf *conf = bridge_conf_of(c->text);
        while (n < MAX_ENDPOINTS && c->endpoints[n].path != NULL)
            n++;
        assert_int_equal(conf->nendpoints, n);
        for (size_t e = 0; e < n; e++)
            check_endpoint(conf, &conf->endpoints[e], &c->endpoints[e]);
        arb_bridge_conf_destroy(conf);
    }
}

/* ---- what a list may not be -------------------------------------------------------------- */

struct bad_case {
    const char *name;
    const char *text;
    const char *expected[MAX_EXPECTED]; /* each after "test.conf" */
};

#define NO_TOKEN "at least one token is required when auth is token"
#define NO_USER "at least one user is required when auth is basic"
#define ONLY_TOKEN "/{token} is only for auth = \"token\""

static const struct bad_case bad_cases[] = {
    {"an unknown schema", TOP "endpoints = ( { path = \"/a\"; schema = \"chat\"; } );\n",
     {":2: endpoints[0].schema: must be one of channel.message.sent, workflow.session.end, "
      "generic"}},
    {"no path", TOP "endpoints = ( { auth = \"none\"; } );\n",
     {":2: endpoints[0].path: required"}},
    {"a path not starting with /", TOP "endpoints = ( { path = \"a\"; auth = \"none\"; } );\n",
     {":2: endpoints[0].path: must start with '/'"}},
    {"an operator path", TOP
     "endpoints = ( { path = \"/a\"; auth = \"none\"; },\n"
     "              { path = \"/metrics\"; auth = \"none\"; } );\n",
     {":3: endpoints[1].path: /metrics is the bridge's own"}},
    {"each operator path", TOP
     "endpoints = (\n"
     "  { path = \"/healthz\"; auth = \"none\"; },\n"
     "  { path = \"/readyz\"; auth = \"none\"; } );\n",
     {":3: endpoints[0].path: /healthz is the bridge's own",
      ":4: endpoints[1].path: /readyz is the bridge's own"}},
    {"a path twice", TOP
     "endpoints = ( { path = \"/a\"; auth = \"none\"; },\n"
     "              { path = \"/b\"; auth = \"none\"; },\n"
     "              { path = \"/a\"; } );\n",
     {":4: endpoints[2].path: duplicate path /a"}},
    {"http.path beside the list", TOP
     "http = {\n  path = \"/old\";\n};\n"
     "endpoints = ( { path = \"/a\"; } );\n",
     {":3: http.path: not allowed with endpoints (each endpoint has its path)"}},
    {"an empty list", TOP "endpoints = ();\n",
     {":2: endpoints: at least one endpoint is required"}},
    {"token without tokens", TOP "endpoints = ( { path = \"/t/{token}\"; auth = \"token\"; } );\n",
     {":2: endpoints[0].token.secrets: " NO_TOKEN}},
    {"token with an empty list of tokens", TOP
     "endpoints = ( { path = \"/t/{token}\"; auth = \"token\"; token = { secrets = []; }; } );\n",
     {":2: endpoints[0].token.secrets: " NO_TOKEN}},
    {"token neither in a header nor in the path", TOP
     "endpoints = ( { path = \"/t\"; auth = \"token\"; token = { secrets = [ \"x\" ]; }; } );\n",
     {":2: endpoints[0].token.header: required unless the path ends with /{token}"}},
    {"token both in a header and in the path", TOP
     "endpoints = ( { path = \"/t/{token}\"; auth = \"token\";\n"
     "                token = { header = \"X-T\"; secrets = [ \"x\" ]; }; } );\n",
     {":2: endpoints[0].token.header: not allowed with /{token} in the path"}},
    {"a {token} path for a signature", TOP "endpoints = ( { path = \"/s/{token}\"; } );\n",
     {":2: endpoints[0].path: " ONLY_TOKEN}},
    {"a {token} path for basic and none", TOP
     "endpoints = (\n"
     "  { path = \"/b/{token}\"; auth = \"basic\";\n"
     "    basic = { users = ( { user = \"u\"; password = \"p\"; } ); }; },\n"
     "  { path = \"/n/{token}\";\n    auth = \"none\"; } );\n",
     {":3: endpoints[0].path: " ONLY_TOKEN, ":5: endpoints[1].path: " ONLY_TOKEN}},
    {"basic without users", TOP "endpoints = ( { path = \"/b\"; auth = \"basic\"; } );\n",
     {":2: endpoints[0].basic.users: " NO_USER}},
    {"basic with an empty list of users", TOP
     "endpoints = ( { path = \"/b\"; auth = \"basic\"; basic = { users = (); }; } );\n",
     {":2: endpoints[0].basic.users: " NO_USER}},
    {"a user without a password", TOP
     "endpoints = ( { path = \"/b\"; auth = \"basic\";\n"
     "                basic = { users = ( { user = \"u\"; } ); }; } );\n",
     {":3: endpoints[0].basic.users[0].password: required"}},
    {"an empty password", TOP
     "endpoints = ( { path = \"/b\"; auth = \"basic\";\n"
     "                basic = { users = ( { user = \"u\"; password = \"\"; } ); }; } );\n",
     {":3: endpoints[0].basic.users[0].password: must not be empty"}},
    {"an empty user name", TOP
     "endpoints = ( { path = \"/b\"; auth = \"basic\";\n"
     "                basic = { users = ( { user = \"\"; password = \"p\"; } ); }; } );\n",
     {":3: endpoints[0].basic.users[0].user: must not be empty"}},
    {"a user name with a colon (RFC 7617: the first one ends it)", TOP
     "endpoints = ( { path = \"/b\"; auth = \"basic\";\n"
     "                basic = { users = ( { user = \"a:b\"; password = \"p\"; } ); }; } );\n",
     {":3: endpoints[0].basic.users[0].user: must not contain ':'"}},
    {"a password from an unset variable", TOP
     "endpoints = ( { path = \"/b\"; auth = \"basic\";\n"
     "                basic = { users = ( { user = \"u\"; password = \"${UNSET}\"; } ); }; } );\n",
     {":3: endpoints[0].basic.users[0].password: environment variable UNSET is not set"}},
    {"a password from a file that cannot be read", TOP
     "endpoints = ( { path = \"/b\"; auth = \"basic\";\n"
     "                basic = { users = ( { user = \"u\"; password = \"file:pw\"; } ); }; } );\n",
     {":3: endpoints[0].basic.users[0].password: cannot read pw: no files in unit tests"}},
    {"an own signature group without a secret", TOP
     "endpoints = ( { path = \"/a\";\n  signature = { header = \"X-S\"; }; } );\n",
     {":3: endpoints[0].signature.secrets: at least one secret is required when "
      "endpoints[0].signature.mode is enforce"}},
    {"every problem, each at its line", TOP
     "endpoints = (\n"
     "  { path = \"/t\"; auth = \"token\"; },\n"
     "  { path = \"/b\"; auth = \"basic\"; },\n"
     "  { path = \"/t\"; auth = \"none\"; }\n"
     ");\n",
     {":3: endpoints[0].token.secrets: " NO_TOKEN,
      ":3: endpoints[0].token.header: required unless the path ends with /{token}",
      ":4: endpoints[1].basic.users: " NO_USER, ":5: endpoints[2].path: duplicate path /t"}},
    /* the budgets of http, checked across its keys */
    {"unverified bodies over the whole budget",
     TOP "http = {\n  max_in_flight_bytes = 65536;\n  max_unverified_bytes = 131072;\n"
     "  max_body_bytes = 4096;\n  max_record_bytes = 4096;\n};\n",
     {":2: http.max_unverified_bytes: must not be larger than http.max_in_flight_bytes (65536)"}},
    {"a body over the unverified budget",
     TOP "http = {\n  max_unverified_bytes = 2048;\n  max_body_bytes = 4096;\n};\n",
     {":2: http.max_body_bytes: must not be larger than http.max_unverified_bytes (2048)"}},
    {"records over the whole budget",
     TOP "http = { max_in_flight_bytes = 65536; max_unverified_bytes = 65536;\n"
     "         max_body_bytes = 4096; max_record_bytes = 65537; };\n",
     {":2: http.max_record_bytes: must not be larger than http.max_in_flight_bytes (65536)"}},
    {"a budget out of its bounds is reported once",
     TOP "http = { max_in_flight_bytes = 1024; };\n",
     {":2: http.max_in_flight_bytes: must be between 65536 and 4294967296"}},
};

static void test_bad_endpoints(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct arb_conf_errors errors = {0};
        struct arb_bridge_conf *conf = NULL;
        size_t expected = 0;
        print_message("case: %s\n", c->name);
        while (expected < MAX_EXPECTED && c->expected[expected] != NULL)
            expected++;
        assert_int_equal(bridge_conf_parse_text(c->text, &conf, &errors), -1);
        assert_null(conf);
        for (size_t e = 0; errors.count != expected && e < errors.count; e++)
            print_message("  got: %s\n", errors.messages[e]);
        assert_int_equal(errors.count, expected);
        for (size_t e = 0; e < expected; e++) {
            char want[512];
            snprintf(want, sizeof(want), "test.conf%s", c->expected[e]);
            assert_string_equal(errors.messages[e], want);
        }
        arb_conf_errors_clear(&errors);
    }
}

/* The budgets may all be equal: each fits in the next. */
static void test_budgets_equal(void **state)
{
    (void)state;
    struct arb_bridge_conf *conf = bridge_conf_of(
        TOP "http = { max_in_flight_bytes = 65536; max_unverified_bytes = 65536;\n"
        "         max_body_bytes = 65536; max_record_bytes = 65536; };\n");
    assert_int_equal(conf->http.max_in_flight_bytes, 65536);
    assert_int_equal(conf->http.max_unverified_bytes, 65536);
    assert_int_equal(conf->http.max_body_bytes, 65536);
    assert_int_equal(conf->http.max_record_bytes, 65536);
    arb_bridge_conf_destroy(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints_parsed),
        cmocka_unit_test(test_bad_endpoints),
        cmocka_unit_test(test_budgets_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
