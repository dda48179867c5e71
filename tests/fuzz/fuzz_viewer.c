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

/* The checks below are the oracle, not code under test: their comparisons would only steer
 * the fuzzer towards shapes of markup, and tracing them took a third of the time. */
#define ORACLE __attribute__((no_sanitize("coverage")))

ORACLE static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

ORACLE static bool listed(const char *const *names, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return true;
    return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Every tag is one the viewer writes, with attributes it writes, their values quoted; a
 * link goes to the viewer, an anchor, or an http(s) address; the only script is the
 * viewer's own. Whatever came from the record can only be text. */
ORACLE static void check_page(const char *html)
{
    static const char *const tags[] = {
        "!DOCTYPE", "html", "head", "meta", "title", "link", "script", "body", "header", "a",
        "form", "label", "input", "button", "main", "section", "h1", "code", "p", "dl", "div",
        "dt", "dd", "article", "span", "time", "b", "blockquote", "details", "summary", "pre",
        "ul", "li", "ol", "h4"};
    static const char *const attributes[] = {
        "lang", "charset", "name", "content", "rel", "href", "src", "defer", "class",
        "method", "action", "type", "value", "placeholder", "id", "title", "datetime",
        "target", "open", "required", "autocomplete"};
    CHECK(count(html, "<script") == 1);
    CHECK(count(html, "<script src=\"/static/viewer.js\" defer></script>") == 1);
    for (const char *p = strchr(html, '<'); p != NULL; p = strchr(p, '<')) {
        p++;
        if (*p == '/')
            p++;
        size_t len = strspn(p, "!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        CHECK(listed(tags, COUNT(tags), p, len));
        if (strncmp(p, "!DOCTYPE html>", 14) == 0)
            continue;
        p += len;
        for (;;) {
            p += strspn(p, " ");
            if (*p == '>')
                break;
            size_t name_len = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
            CHECK(name_len > 0);
            CHECK(listed(attributes, COUNT(attributes), p, name_len) ||
                  (name_len > 5 && strncmp(p, "data-", 5) == 0));
            bool href = name_len == 4 && strncmp(p, "href", 4) == 0;
            bool src = name_len == 3 && strncmp(p, "src", 3) == 0;
            p += name_len;
            if (*p != '=')
                continue; /* a boolean attribute */
            CHECK(p[1] == '"');
            const char *value = p + 2, *close = strchr(value, '"');
            CHECK(close != NULL && memchr(value, '<', (size_t)(close - value)) == NULL);
            if (href)
                CHECK(value[0] == '/' || value[0] == '#' || strncmp(value, "https://", 8) == 0 ||
                      strncmp(value, "http://", 7) == 0);
            if (src)
                CHECK(strncmp(value, "/static/viewer.js\"", 18) == 0);
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
    CHECK(count(out.data, "data-status=\"dead-lettered\"") == 1);
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
