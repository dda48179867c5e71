/* test_search.c - the viewer's search page (core/search.c): records grouped into
 * conversations by call_id (its header, else the key), filtered by a part of it, counted,
 * their first and last receipt times and first four events kept, most recent first (ties by
 * call_id), at most max listed and the records of the others counted; then the page: the
 * start page, a problem, the summary line, links keeping the window, events, channel and
 * the last message's preview; and enough conversations to outgrow the hash table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/search.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RECORDS 12

/* ---- records as the bridge writes them ---------------------------------------------------- */

struct rec_spec {
    const char *call_id; /* "" for none */
    int64_t ts;          /* 0 ends a list */
    const char *event;   /* the airudder-event header, or NULL for none */
    const char *text;    /* the message's text */
    bool key_only;       /* the call_id only as the key, no header */
};

struct rec {
    char *value;
    struct arb_header headers[2];
    struct arb_conv_record record;
};

#define R(id, t, e, x) {.call_id = id, .ts = t, .event = e, .text = x}
#define KEY(id, t, e, x) {.call_id = id, .ts = t, .event = e, .text = x, .key_only = true}

static void make_record(struct rec *r, const struct rec_spec *spec)
{
    json_t *value = json_pack("{s:s, s:s, s:{s:{s:s, s:s}}}", "call_id", spec->call_id,
                              "channel", "WhatsApp", "message", "content", "type", "text",
                              "text", spec->text != NULL ? spec->text : "");
    size_t n = 0;
    r->value = json_dumps(value, JSON_COMPACT);
    json_decref(value);
    if (!spec->key_only)
        r->headers[n++] = (struct arb_header){"airudder-call-id", spec->call_id,
                                              strlen(spec->call_id)};
    if (spec->event != NULL)
        r->headers[n++] = (struct arb_header){"airudder-event", spec->event, strlen(spec->event)};
    r->record = (struct arb_conv_record){
        .topic = "airudder.messages",
        .offset = spec->ts,
        .timestamp_ms = spec->ts,
        .key = spec->call_id,
        .key_len = strlen(spec->call_id),
        .value = r->value,
        .value_len = strlen(r->value),
        .headers = r->headers,
        .nheaders = n,
    };
}

static size_t add_all(struct arb_search *search, const struct rec_spec *specs)
{
    size_t n = 0;
    for (; n < MAX_RECORDS && specs[n].ts != 0; n++) {
        struct rec r;
        make_record(&r, &specs[n]);
        arb_search_add(search, &r.record);
        free(r.value);
    }
    return n;
}

static char *page(struct arb_search *search, const struct arb_search_view *view, bool json)
{
    struct arb_buf out;
    arb_buf_init(&out);
    if (json)
        arb_search_json(search, view, &out);
    else
        arb_search_html(search, view, &out);
    return arb_buf_detach(&out, NULL);
}

/* ---- what is found ----------------------------------------------------------------------- */

struct search_case {
    const char *name;
    const char *filter;
    size_t max;
    struct rec_spec records[MAX_RECORDS];
    const char *want; /* the JSON document */
};

#define E "channel.message.sent"
#define DOC(conversations, scanned, not_listed)                                                \
    "{\"conversations\":[" conversations "],\"scanned\":" #scanned                              \
    ",\"not_listed\":" #not_listed ",\"problem\":null}"
#define CONV(id, records, first, last, events)                                                 \
    "{\"call_id\":\"" id "\",\"records\":" #records ",\"first\":" #first ",\"last\":" #last     \
    ",\"events\":[" events "]}"

static const struct search_case search_cases[] = {
    {"grouped, most recent first", NULL, 10,
     {R("a", 1000, E, "one"), R("b", 2000, E, "two"), R("a", 3000, "x.end", "three"),
      R("a", 2500, E, "late")},
     DOC(CONV("a", 3, 1000, 3000, "\"" E "\",\"x.end\"") ","
         CONV("b", 1, 2000, 2000, "\"" E "\""), 4, 0)},
    {"receipt times out of order: first and last are the extremes", "", 10,
     {R("a", 5000, E, "new"), R("a", 1000, E, "old"), R("a", 3000, E, "mid")},
     DOC(CONV("a", 3, 1000, 5000, "\"" E "\""), 3, 0)},
    {"a tie in time: by call_id", NULL, 10,
     {R("b", 1000, E, "x"), R("c", 1000, E, "x"), R("a", 1000, E, "x")},
     DOC(CONV("a", 1, 1000, 1000, "\"" E "\"") "," CONV("b", 1, 1000, 1000, "\"" E "\"") ","
         CONV("c", 1, 1000, 1000, "\"" E "\""), 3, 0)},
    {"filtered by a part of the call_id", "42", 10,
     {R("x42y", 1000, E, "in"), R("x43y", 2000, E, "out"), R("42", 3000, E, "in"),
      R("4", 4000, E, "out")},
     DOC(CONV("42", 1, 3000, 3000, "\"" E "\"") "," CONV("x42y", 1, 1000, 1000, "\"" E "\""),
         4, 0)},
    {"the filter is case-sensitive", "AB", 10, {R("ab", 1000, E, "x")}, DOC("", 1, 0)},
    {"the call_id from the key when no header", NULL, 10,
     {KEY("k", 1000, E, "x"), R("k", 2000, E, "y")},
     DOC(CONV("k", 2, 1000, 2000, "\"" E "\""), 2, 0)},
    {"records without a call_id are not conversations", NULL, 10,
     {R("", 1000, E, "x"), KEY("", 2000, E, "y"), R("a", 3000, E, "z")},
     DOC(CONV("a", 1, 3000, 3000, "\"" E "\""), 3, 0)},
    {"at most max listed, the others' records counted", NULL, 2,
     {R("a", 1000, E, "x"), R("b", 2000, E, "x"), R("c", 3000, E, "x"), R("a", 4000, E, "x"),
      R("c", 5000, E, "x"), R("d", 500, E, "x")},
     DOC(CONV("a", 2, 1000, 4000, "\"" E "\"") "," CONV("b", 1, 2000, 2000, "\"" E "\""), 6,
         3)},
    {"max 0: nothing listed", NULL, 0, {R("a", 1000, E, "x"), R("b", 2000, E, "x")},
     DOC("", 2, 2)},
    {"four events kept, in the order seen; records without one add none", NULL, 10,
     {R("a", 1000, "e1", "x"), R("a", 1001, "e2", "x"), R("a", 1002, NULL, "x"),
      R("a", 1003, "e1", "x"), R("a", 1004, "e3", "x"), R("a", 1005, "e4", "x"),
      R("a", 1006, "e5", "x")},
     DOC(CONV("a", 7, 1000, 1006, "\"e1\",\"e2\",\"e3\",\"e4\""), 7, 0)},
};

static void test_found(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(search_cases); i++) {
        const struct search_case *c = &search_cases[i];
        struct arb_search *search = arb_search_new(c->filter, c->max);
        print_message("case: %s\n", c->name);
        size_t n = add_all(search, c->records);
        const struct arb_search_view view = {.searched = true, .scanned = n};
        char *text = page(search, &view, true);
        json_t *got = json_loads(text, 0, NULL), *want = json_loads(c->want, 0, NULL);
        assert_non_null(want);
        if (got == NULL || !json_equal(got, want))
            fail_msg("got %s\nwant %s", text, c->want);
        assert_int_equal(text[strlen(text) - 1], '\n');
        json_decref(got);
        json_decref(want);
        free(text);
        arb_search_destroy(search);
    }
}

/* ---- the page ---------------------------------------------------------------------------- */

static void test_start_page(void **state)
{
    (void)state;
    struct arb_search *search = arb_search_new("a<b", 10);
    const struct arb_search_view view = {.from = "2024-07-05T00:00:00Z"};
    char *html = page(search, &view, false);
    assert_non_null(strstr(html, "<h1>Conversations</h1><p class=\"notice\">Search by call_id"));
    assert_non_null(strstr(html, "Without a window every record is read.</p></section>"));
    assert_non_null(strstr(html, "a&lt;b")); /* the search bar keeps what was typed */
    assert_null(strstr(html, "a<b"));
    assert_null(strstr(html, "class=\"summary\""));
    assert_null(strstr(html, "<table"));
    assert_non_null(strstr(html, "</html>"));
    free(html);
    arb_search_destroy(search);
}

static void test_problem_and_nothing_found(void **state)
{
    (void)state;
    struct arb_search *search = arb_search_new(NULL, 10);
    const struct arb_search_view view = {.searched = true, .scanned = 0,
                                         .problem = "Cannot read <the records>"};
    char *html = page(search, &view, false);
    assert_non_null(
        strstr(html, "<p class=\"notice problem\">Cannot read &lt;the records&gt;</p>"));
    assert_non_null(strstr(html, "<p class=\"summary\">0 conversations in 0 records read.</p>"));
    assert_null(strstr(html, "<table"));
    free(html);
    char *text = page(search, &view, true);
    json_t *doc = json_loads(text, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "problem")),
                        "Cannot read <the records>");
    json_decref(doc);
    free(text);
    arb_search_destroy(search);
}

static void test_results_page(void **state)
{
    (void)state;
    static const struct rec_spec records[] = {
        R("a b&c", 1000, "e1", "first"), R("a b&c", 61000, "e2", "<last> words"),
        R("zz", 2000, "e1", "other"), {0},
    };
    struct arb_search *search = arb_search_new("", 10);
    add_all(search, records);
    const struct arb_search_view view = {.searched = true, .scanned = 3,
                                         .from = "2024-07-05T00:00:00Z", .until = "1720160400123"};
    char *html = page(search, &view, false);
    assert_non_null(strstr(html, "<p class=\"summary\">2 conversations in 3 records read.</p>"));
    assert_non_null(strstr(html, "<table class=\"found\"><thead>"));
    /* the link keeps the window; the call_id encoded in it, escaped in the text */
    assert_non_null(strstr(html, "<a class=\"conversation-link\" href=\"/conversation?"
                                 "call_id=a%20b%26c&amp;from=2024-07-05T00%3A00%3A00Z&amp;"
                                 "until=1720160400123\"><code>a b&amp;c</code></a>"));
    assert_non_null(strstr(html, "<td>2</td><td>1970-01-01 00:00:01 UTC</td>"
                                 "<td>1970-01-01 00:01:01 UTC</td><td>e1, e2</td>"
                                 "<td>WhatsApp</td><td>&lt;last&gt; words</td></tr>"));
    /* most recent first */
    assert_true(strstr(html, "<code>a b&amp;c</code>") < strstr(html, "<code>zz</code>"));
    assert_non_null(strstr(html, "</tbody></table></section>"));
    free(html);
    arb_search_destroy(search);
}

/* The window is kept in links only when it was given. */
static void test_link_without_window(void **state)
{
    (void)state;
    static const struct rec_spec records[] = {R("c1", 1000, E, "x"), {0}};
    struct arb_search *search = arb_search_new(NULL, 10);
    add_all(search, records);
    const struct arb_search_view view = {.searched = true, .scanned = 1, .from = "",
                                         .until = NULL};
    char *html = page(search, &view, false);
    assert_non_null(strstr(html, "<p class=\"summary\">1 conversation in 1 records read.</p>"));
    assert_non_null(strstr(html, "href=\"/conversation?call_id=c1\">"));
    free(html);
    arb_search_destroy(search);
}

/* More conversations than max: the page says which are listed, truthfully. Records are read
 * oldest first, and the first max conversations found are the ones kept, so the list is not
 * "the most recent" ones. */
static void test_beyond_max(void **state)
{
    (void)state;
    static const struct rec_spec records[] = {
        R("early", 1000, E, "x"), R("middle", 2000, E, "x"), R("late", 3000, E, "x"),
        R("later", 4000, E, "x"), {0},
    };
    struct arb_search *search = arb_search_new(NULL, 2);
    add_all(search, records);
    const struct arb_search_view view = {.searched = true, .scanned = 4};
    char *html = page(search, &view, false);
    assert_non_null(strstr(html, "<code>early</code>"));
    assert_non_null(strstr(html, "<code>middle</code>"));
    assert_null(strstr(html, "<code>late</code>"));
    assert_non_null(strstr(html, "<p class=\"summary\">2 conversations in 4 records read; only "
                                 "the first 2 found are listed (2 records of others not "
                                 "shown).</p>"));
    assert_null(strstr(html, "most recent"));
    free(html);
    arb_search_destroy(search);
}

/* Past the table's first size (64 slots, grown at half full), and again: every conversation
 * is still found, with its own records. */
static void test_many_conversations(void **state)
{
    (void)state;
    enum { N = 300 };
    struct arb_search *search = arb_search_new("conv-", N);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            char id[32];
            snprintf(id, sizeof(id), "conv-%d", i);
            const struct rec_spec spec = R(id, 1000 + i + round * N, E, "x");
            struct rec r;
            make_record(&r, &spec);
            arb_search_add(search, &r.record);
            free(r.value);
        }
    }
    const struct arb_search_view view = {.searched = true, .scanned = 2 * N};
    char *text = page(search, &view, true);
    json_t *doc = json_loads(text, 0, NULL);
    json_t *list = json_object_get(doc, "conversations");
    assert_int_equal(json_array_size(list), N);
    assert_int_equal(json_integer_value(json_object_get(doc, "not_listed")), 0);
    for (int i = 0; i < N; i++) {
        json_t *conv = json_array_get(list, (size_t)i);
        char id[32];
        snprintf(id, sizeof(id), "conv-%d", N - 1 - i); /* the last added is the most recent */
        assert_string_equal(json_string_value(json_object_get(conv, "call_id")), id);
        assert_int_equal(json_integer_value(json_object_get(conv, "records")), 2);
        assert_int_equal(json_integer_value(json_object_get(conv, "first")), 1000 + N - 1 - i);
        assert_int_equal(json_integer_value(json_object_get(conv, "last")), 1000 + 2 * N - 1 - i);
    }
    json_decref(doc);
    free(text);
    arb_search_destroy(search);
    arb_search_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found),
        cmocka_unit_test(test_start_page),
        cmocka_unit_test(test_problem_and_nothing_found),
        cmocka_unit_test(test_results_page),
        cmocka_unit_test(test_link_without_window),
        cmocka_unit_test(test_beyond_max),
        cmocka_unit_test(test_many_conversations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
