/* test_view_request.c - the viewer's edge: escaping, web addresses, times, form bodies,
 * routing, and who may read or re-send (loopback or exposed, token or not, same site or
 * not). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "arb/html.h"
#include "arb/view_request.h"

/* ---- html.h ---- */

static void test_escaping(void **state)
{
    (void)state;
    struct arb_buf out;
    arb_buf_init(&out);
    arb_html_puts(&out, "<a href=\"x\" title='y'>&\x01\x7f\tok\n</a>");
    assert_string_equal(out.data, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;\tok\n&lt;/a&gt;");
    arb_buf_reset(&out);
    arb_url_encode(&out, "a b&c=d/é~");
    assert_string_equal(out.data, "a%20b%26c%3Dd%2F%C3%A9~");
    arb_buf_free(&out);
}

static void test_web_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *host; /* NULL: not a web link */
    } cases[] = {
        {"https://www.planetware.com/wpimages/a.jpg", "www.planetware.com"},
        {"http://example.com", "example.com"},
        {"https://example.com:8443/x?y=1#z", "example.com"},
        {"https://[2001:db8::1]:443/a", "[2001:db8::1]"},
        {"https://a.b/c%2Fd.pdf?Expires=1", "a.b"},
        {"javascript:alert(1)", NULL},
        {"data:image/png;base64,AAAA", NULL},
        {"//example.com/a", NULL},
        {"https://user:pw@example.com/", NULL},
        {"https://example.com\\@evil/", NULL},
        {"https://exa mple.com/", NULL},
        {"https://example.com/\"onclick", NULL},
        {"https://example.com:99999999/", NULL},
        {"https:///path", NULL},
        {"ftp://example.com/a", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char host[64] = "";
        bool ok = arb_url_web(cases[i].url, host, sizeof(host));
        if (cases[i].host == NULL) {
            assert_false(ok);
        } else {
            assert_true(ok);
            assert_string_equal(host, cases[i].host);
        }
    }
    char name[64];
    arb_url_file_name("https://h/upload%2F2024%2Fwelcome_to_Earth.pdf?Expires=1", name, sizeof(name));
    assert_string_equal(name, "welcome_to_Earth.pdf");
    arb_url_file_name("https://h", name, sizeof(name));
    assert_string_equal(name, "");
    arb_url_file_name("https://h/a%20b.txt", name, sizeof(name));
    assert_string_equal(name, "a b.txt");
}

static void test_times(void **state)
{
    (void)state;
    struct arb_buf out;
    arb_buf_init(&out);
    arb_html_time(&out, INT64_C(1720159500000), false);
    assert_string_equal(out.data, "2024-07-05 06:05:00 UTC");
    arb_buf_reset(&out);
    arb_html_time_iso(&out, INT64_C(951782400123), true); /* 2000-02-29, a leap day */
    assert_string_equal(out.data, "2000-02-29T00:00:00.123Z");
    arb_buf_reset(&out);
    arb_html_time(&out, 0, true);
    assert_string_equal(out.data, "1970-01-01 00:00:00.000 UTC");
    arb_buf_free(&out);
}

static void test_form_values(void **state)
{
    (void)state;
    const char body[] = "call_id=a%2Bb+c&topic=t&empty=&token=s%3D%26cret&bad=%zz&nul=%00";
    char out[16];
    assert_int_equal(arb_form_value(body, strlen(body), "call_id", out, sizeof(out)), 0);
    assert_string_equal(out, "a+b c");
    assert_int_equal(arb_form_value(body, strlen(body), "token", out, sizeof(out)), 0);
    assert_string_equal(out, "s=&cret");
    assert_int_equal(arb_form_value(body, strlen(body), "empty", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(arb_form_value(body, strlen(body), "missing", out, sizeof(out)), 1);
    assert_int_equal(arb_form_value(body, strlen(body), "bad", out, sizeof(out)), -1);
    assert_int_equal(arb_form_value(body, strlen(body), "nul", out, sizeof(out)), -1);
    assert_int_equal(arb_form_value(body, strlen(body), "call_id", out, 3), -1); /* too long */
    assert_int_equal(arb_form_value("x=%4", 4, "x", out, sizeof(out)), -1);      /* cut escape */
    assert_int_equal(arb_form_value(body, strlen(body), "topi", out, sizeof(out)), 1);
}

/* ---- routing ---- */

struct args {
    const char *names[8];
    const char *values[8];
};

static const char *lookup(void *opaque, const char *name)
{
    const struct args *args = opaque;
    for (size_t i = 0; i < 8 && args->names[i] != NULL; i++)
        if (strcmp(args->names[i], name) == 0)
            return args->values[i];
    return NULL;
}

static void test_routes(void **state)
{
    (void)state;
    struct arb_view_request req;
    struct arb_view_answer answer;
    struct args none = {{NULL}, {NULL}};
    struct args conv = {{"call_id", "from", "until"}, {"c1", "2026-11-23T10:00:00Z", "1795544251093"}};

    assert_int_equal(arb_view_request_parse("GET", "/", lookup, &none, NULL, 0, &req, &answer), 0);
    assert_int_equal(req.page, ARB_VIEW_SEARCH);
    assert_false(req.searched);
    assert_int_equal(arb_view_request_parse("GET", "/conversation", lookup, &conv, NULL, 0, &req, &answer), 0);
    assert_int_equal(req.page, ARB_VIEW_CONVERSATION);
    assert_false(req.json);
    assert_string_equal(req.call_id, "c1");
    assert_true(req.has_from && req.has_until);
    assert_int_equal(req.from_ms, INT64_C(1795428000000));
    assert_int_equal(req.until_ms, INT64_C(1795544251093));
    assert_int_equal(arb_view_request_parse("GET", "/conversation.json", lookup, &conv, NULL, 0, &req, &answer), 0);
    assert_true(req.json);
    assert_int_equal(arb_view_request_parse("GET", "/static/viewer.js", lookup, &none, NULL, 0, &req, &answer), 0);
    assert_int_equal(req.page, ARB_VIEW_JS);

    assert_int_equal(arb_view_request_parse("GET", "/conversation", lookup, &none, NULL, 0, &req, &answer), -1);
    assert_int_equal(answer.status, 400);
    assert_string_equal(answer.message, "call_id: required");
    assert_int_equal(arb_view_request_parse("GET", "/etc/passwd", lookup, &none, NULL, 0, &req, &answer), -1);
    assert_int_equal(answer.status, 404);
    assert_int_equal(arb_view_request_parse("POST", "/conversation", lookup, &conv, "", 0, &req, &answer), -1);
    assert_int_equal(answer.status, 405);
    assert_string_equal(answer.allow, "GET, HEAD");
    assert_int_equal(arb_view_request_parse("GET", "/resend.json", lookup, &conv, NULL, 0, &req, &answer), -1);
    assert_int_equal(answer.status, 405);

    struct args bad_time = {{"call_id", "from"}, {"c1", "yesterday"}};
    assert_int_equal(arb_view_request_parse("GET", "/conversation", lookup, &bad_time, NULL, 0, &req, &answer), -1);
    assert_int_equal(answer.status, 400);
    struct args reversed = {{"call_id", "from", "until"}, {"c1", "2000", "1000"}};
    assert_int_equal(arb_view_request_parse("GET", "/", lookup, &reversed, NULL, 0, &req, &answer), -1);
    assert_string_equal(answer.message, "from is after until");

    struct args confirm = {{"call_id", "topic", "partition", "offset"}, {"c1", "airudder.messages", "2", "17"}};
    assert_int_equal(arb_view_request_parse("GET", "/resend", lookup, &confirm, NULL, 0, &req, &answer), 0);
    assert_int_equal(req.page, ARB_VIEW_CONFIRM);
    assert_string_equal(req.topic, "airudder.messages");
    assert_int_equal(req.partition, 2);
    assert_int_equal(req.offset, 17);
    struct args bad_topic = {{"call_id", "topic", "partition", "offset"}, {"c1", "a/b", "2", "17"}};
    assert_int_equal(arb_view_request_parse("GET", "/resend", lookup, &bad_topic, NULL, 0, &req, &answer), -1);
    struct args bad_offset = {{"call_id", "topic", "partition", "offset"}, {"c1", "t", "2", "-1"}};
    assert_int_equal(arb_view_request_parse("GET", "/resend", lookup, &bad_offset, NULL, 0, &req, &answer), -1);

    const char form[] = "call_id=c1&topic=airudder.messages&partition=0&offset=3&token=s3cret";
    assert_int_equal(arb_view_request_parse("POST", "/resend", lookup, &none, form, strlen(form), &req, &answer), 0);
    assert_int_equal(req.page, ARB_VIEW_RESEND);
    assert_true(req.has_token);
    assert_string_equal(req.token, "s3cret");
    assert_int_equal(req.offset, 3);
}

/* ---- authorization ---- */

static int authorize(const struct arb_view_policy *policy, enum arb_view_page page,
                     const char *form_token, const char *authorization, const char *origin,
                     const char *site, unsigned *status)
{
    struct arb_view_request req = {.page = page};
    struct arb_view_answer answer;
    if (form_token != NULL) {
        strcpy(req.token, form_token);
        req.has_token = true;
    }
    const struct arb_view_headers headers = {authorization, origin, site, "127.0.0.1:8082"};
    int rc = arb_view_authorize(policy, &req, &headers, &answer);
    *status = answer.status;
    return rc;
}

static void test_who_may(void **state)
{
    (void)state;
    const struct arb_view_policy open = {"", 0, false};
    const struct arb_view_policy token = {"s3cret", 6, false};
    const struct arb_view_policy exposed = {"s3cret", 6, true};
    unsigned status;

    /* loopback: reading is open */
    assert_int_equal(authorize(&open, ARB_VIEW_CONVERSATION, NULL, NULL, NULL, NULL, &status), 0);
    /* no token configured: no re-send, not even its confirmation */
    assert_int_equal(authorize(&open, ARB_VIEW_CONFIRM, NULL, NULL, NULL, NULL, &status), -1);
    assert_int_equal(status, 403);
    assert_int_equal(authorize(&open, ARB_VIEW_RESEND, "", NULL, NULL, NULL, &status), -1);
    assert_int_equal(status, 403);
    /* a token configured: a re-send needs it, in the form or a Bearer header */
    assert_int_equal(authorize(&token, ARB_VIEW_CONFIRM, NULL, NULL, NULL, NULL, &status), 0);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, NULL, NULL, NULL, NULL, &status), -1);
    assert_int_equal(status, 403);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, "s3cre", NULL, NULL, NULL, &status), -1);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, "s3cret!", NULL, NULL, NULL, &status), -1);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, "s3cret", NULL, NULL, NULL, &status), 0);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, NULL, "Bearer s3cret", NULL, NULL, &status), 0);
    /* never a Basic header, which a browser sends by itself */
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, NULL, "Basic dTpzM2NyZXQ=", NULL, NULL, &status), -1);
    /* from the viewer's own page only */
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, "s3cret", NULL, "http://127.0.0.1:8082", "same-origin", &status), 0);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, "s3cret", NULL, "http://evil.example", NULL, &status), -1);
    assert_int_equal(status, 403);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, "s3cret", NULL, "null", NULL, &status), -1);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, "s3cret", NULL, NULL, "cross-site", &status), -1);
    assert_int_equal(authorize(&token, ARB_VIEW_RESEND, "s3cret", NULL, NULL, "same-site", &status), -1);

    /* exposed: reading needs the token too (Bearer, or Basic with it as the password) */
    assert_int_equal(authorize(&exposed, ARB_VIEW_SEARCH, NULL, NULL, NULL, NULL, &status), -1);
    assert_int_equal(status, 401);
    assert_int_equal(authorize(&exposed, ARB_VIEW_SEARCH, NULL, "Bearer nope", NULL, NULL, &status), -1);
    assert_int_equal(authorize(&exposed, ARB_VIEW_SEARCH, NULL, "Bearer s3cret", NULL, NULL, &status), 0);
    assert_int_equal(authorize(&exposed, ARB_VIEW_SEARCH, NULL, "Basic dTpzM2NyZXQ=", NULL, NULL, &status), 0); /* u:s3cret */
    assert_int_equal(authorize(&exposed, ARB_VIEW_SEARCH, NULL, "Basic dTpzM2NyZQ==", NULL, NULL, &status), -1); /* u:s3cre */
    assert_int_equal(authorize(&exposed, ARB_VIEW_SEARCH, NULL, "Basic !!!!", NULL, NULL, &status), -1);
    /* the stylesheet, the script and /healthz are never in the way */
    assert_int_equal(authorize(&exposed, ARB_VIEW_CSS, NULL, NULL, NULL, NULL, &status), 0);
    assert_int_equal(authorize(&exposed, ARB_VIEW_HEALTH, NULL, NULL, NULL, NULL, &status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_web_addresses),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_form_values),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_who_may),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
