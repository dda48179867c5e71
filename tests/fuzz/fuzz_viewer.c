/* fuzz_viewer.c - the conversation viewer's pages on any record value.
 *
 * The input is a record's value (the seeds: each message of the three fixtures as the bridge
 * writes it). It becomes a conversation of two records (the second the same value in
 * another partition) with a delivery-log outcome, rendered as the chat page, the
 * confirmation of a re-send and JSON. Beyond not crashing or leaking: nothing of the value
 * turns into markup (every tag and attribute is one the viewer writes, attribute values
 * stay inside their quotes, links go nowhere but the viewer and http(s), the one script is
 * the viewer's own), and the JSON parses. */
#include "check.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arb/conversation.h"
#include "arb/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The checks below are the oracle, not code under test. They are not coverage-instrumented
 * (their comparisons would only steer the fuzzer towards shapes of markup) and call no
 * string function, which ASan and libFuzzer intercept: together that was half the time of
 * an execution. */
#define ORACLE __attribute__((no_sanitize("coverage")))

struct name {
    const char *text;
    size_t len;
};
#define NAME(s) {s, sizeof(s) - 1}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

ORACLE static bool starts(const char *p, const char *prefix, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != prefix[i])
            return false;
    return true;
}

ORACLE static size_t count(const char *haystack, const char *needle, size_t len)
{
    size_t n = 0;
    for (const char *p = haystack; *p != '\0'; p++)
        n += *p == needle[0] && starts(p, needle, len);
    return n;
}

ORACLE static bool listed(const struct name *names, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (names[i].len == len && starts(name, names[i].text, len))
            return true;
    return false;
}

ORACLE static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

ORACLE static size_t tag_len(const char *p)
{
    size_t n = 0;
    while (p[n] == '!' || is_lower(p[n]) || (p[n] >= 'A' && p[n] <= 'Z') ||
           (p[n] >= '0' && p[n] <= '9'))
        n++;
    return n;
}

ORACLE static size_t attribute_len(const char *p)
{
    size_t n = 0;
    while (is_lower(p[n]) || p[n] == '-')
        n++;
    return n;
}

/* The closing quote of an attribute value, or NULL when a '<' or the end comes first. */
ORACLE static const char *value_end(const char *value)
{
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '"')
            return p;
        if (*p == '<')
            return NULL;
    }
    return NULL;
}

#define STARTS(p, literal) starts((p), (literal), sizeof(literal) - 1)
#define COUNT_OF(html, literal) count((html), (literal), sizeof(literal) - 1)

/* Every tag is one the viewer writes, with attributes it writes, their values quoted; a
 * link goes to the viewer, an anchor, or an http(s) address; the only script is the
 * viewer's own. Whatever came from the record can only be text. */
ORACLE static void check_page(const char *html)
{
    static const struct name tags[] = {
        NAME("!DOCTYPE"), NAME("html"), NAME("head"), NAME("meta"), NAME("title"),
        NAME("link"), NAME("script"), NAME("body"), NAME("header"), NAME("a"), NAME("form"),
        NAME("label"), NAME("input"), NAME("button"), NAME("main"), NAME("section"),
        NAME("h1"), NAME("code"), NAME("p"), NAME("dl"), NAME("div"), NAME("dt"), NAME("dd"),
        NAME("article"), NAME("span"), NAME("time"), NAME("b"), NAME("blockquote"),
        NAME("details"), NAME("summary"), NAME("pre"), NAME("ul"), NAME("li"), NAME("ol"),
        NAME("h4")};
    static const struct name attributes[] = {
        NAME("lang"), NAME("charset"), NAME("name"), NAME("content"), NAME("rel"),
        NAME("href"), NAME("src"), NAME("defer"), NAME("class"), NAME("method"),
        NAME("action"), NAME("type"), NAME("value"), NAME("placeholder"), NAME("id"),
        NAME("title"), NAME("datetime"), NAME("target"), NAME("open"), NAME("required"),
        NAME("autocomplete")};
    CHECK(COUNT_OF(html, "<script") == 1);
    CHECK(COUNT_OF(html, "<script src=\"/static/viewer.js\" defer></script>") == 1);
    for (const char *p = html; *p != '\0'; p++) {
        if (*p != '<')
            continue;
        p++;
        if (*p == '/')
            p++;
        size_t len = tag_len(p);
        CHECK(listed(tags, COUNT(tags), p, len));
        if (STARTS(p, "!DOCTYPE html>"))
            continue;
        p += len;
        for (;;) {
            while (*p == ' ')
                p++;
            if (*p == '>')
                break;
            size_t name_len = attribute_len(p);
            CHECK(name_len > 0);
            CHECK(listed(attributes, COUNT(attributes), p, name_len) ||
                  (name_len > 5 && STARTS(p, "data-")));
            bool href = name_len == 4 && STARTS(p, "href");
            bool src = name_len == 3 && STARTS(p, "src");
            p += name_len;
            if (*p != '=')
                continue; /* a boolean attribute */
            CHECK(p[1] == '"');
            const char *value = p + 2, *close = value_end(value);
            CHECK(close != NULL);
            if (href)
                CHECK(value[0] == '/' || value[0] == '#' || STARTS(value, "https://") ||
                      STARTS(value, "http://"));
            if (src)
                CHECK(STARTS(value, "/static/viewer.js\""));
            p = close + 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *value = (const char *)data;
    const struct arb_header headers[] = {{"airudder-call-id", "c", 1},
                                         {"airudder-request-id", "0123456789abcdef", 16}};
    struct arb_conversation *conv = arb_conversation_new("c");
    for (int32_t p = 0; p < 2; p++) {
        const struct arb_conv_record record = {
            .topic = "airudder.messages", .partition = p, .offset = 7, .timestamp_ms = 1000 - p,
            .key = "c", .key_len = 1, .value = value, .value_len = size,
            .headers = headers, .nheaders = 2,
        };
        arb_conversation_add_record(conv, &record, 10);
    }
    const struct arb_outcome outcome = {
        .status = ARB_OUTCOME_DEADLETTERED, .call_id = "c", .call_id_len = 1,
        .topic = "airudder.messages", .partition = 1, .offset = 7, .attempts = 1,
        .desk_status = 400, .reason = "desk refused it (HTTP 400)", .done_ms = 2000,
    };
    struct arb_buf out;
    arb_buf_init(&out);
    arb_outcome_encode(&outcome, &out);
    CHECK(arb_conversation_add_outcome(conv, out.data, out.len, NULL) == 0);
    arb_conversation_finish(conv);
    CHECK(arb_conversation_count(conv) == 2);

    const struct arb_conversation_view view = {.resend = true, .from = "0", .desk = "desk"};
    arb_buf_reset(&out);
    arb_conversation_html(conv, &view, &out);
    check_page(out.data);
    CHECK(COUNT_OF(out.data, "data-status=\"dead-lettered\"") == 1);
    arb_buf_reset(&out);
    arb_conversation_confirm_html(conv, 0, &view, &out);
    check_page(out.data);
    arb_buf_reset(&out);
    arb_conversation_json(conv, &view, &out);
    json_t *doc = json_loads(out.data, 0, NULL);
    CHECK(doc != NULL && json_array_size(json_object_get(doc, "records")) == 2);
    json_decref(doc);

    arb_buf_free(&out);
    arb_conversation_destroy(conv);
    return 0;
}
