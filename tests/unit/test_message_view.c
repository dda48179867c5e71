/* test_message_view.c - one message as the viewer shows it (core/message_view.c), one table
 * of messages of every kind and of shapes the kinds do not fit: the kind, fragments its HTML
 * must hold (and the JSON fallback only for "unknown"), and its one-line summary exactly,
 * cut at about 120 bytes on a character boundary. The fixtures' messages are in
 * test_conversation.c; these are the shapes they do not have. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "arb/message_view.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FRAGMENTS 4
#define ELLIPSIS "\xE2\x80\xA6"

#define A10 "aaaaaaaaaa"
#define A100 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10
#define A119 A100 A10 "aaaaaaaaa"
#define A120 A100 A10 A10

struct view_case {
    const char *name;
    const char *message; /* JSON */
    const char *kind;
    const char *html[MAX_FRAGMENTS]; /* each must be in the HTML */
    const char *absent;              /* must not be, or NULL */
    const char *summary;
};

#define CONTENT(c) "{\"msg_id\":\"m\",\"sender_type\":\"robot\",\"content\":" c "}"
#define MEDIA(type, media) CONTENT("{\"type\":\"" type "\",\"media\":" media "}")
#define TEMPLATE(t) CONTENT("{\"type\":\"template\",\"template\":" t "}")
#define INTERACTIVE(i) CONTENT("{\"type\":\"interactive\",\"interactive\":" i "}")
#define NOT_A_LINK "at an address that is not a web link: <code>"

static const struct view_case cases[] = {
    /* text, and how summaries are cut */
    {"text, escaped", CONTENT("{\"type\":\"text\",\"text\":\"1 < 2 & \\\"3\\\"\"}"), "text",
     {"<p class=\"text\">1 &lt; 2 &amp; &quot;3&quot;</p>"}, NULL,
     "1 &lt; 2 &amp; &quot;3&quot;"},
    {"text of 120 bytes: whole", CONTENT("{\"type\":\"text\",\"text\":\"" A120 "\"}"), "text",
     {"<p class=\"text\">" A120 "</p>"}, NULL, A120},
    {"text of 121 bytes: cut, marked", CONTENT("{\"type\":\"text\",\"text\":\"" A120 "b\"}"),
     "text", {A120 "b</p>"}, NULL, A120 ELLIPSIS},
    {"a character across byte 120: cut before it",
     CONTENT("{\"type\":\"text\",\"text\":\"" A119 "\xC3\xA9z\"}"), "text", {A119 "\xC3\xA9z"},
     NULL, A119 ELLIPSIS},
    {"a three-byte character across byte 120: cut before it",
     CONTENT("{\"type\":\"text\",\"text\":\"" A119 "\xE4\xB8\x80\"}"), "text", {"</p>"}, NULL,
     A119 ELLIPSIS},
    {"empty text: no paragraph", CONTENT("{\"type\":\"text\",\"text\":\"\"}"), "text", {""},
     "<p", ""},
    {"text not a string", CONTENT("{\"type\":\"text\",\"text\":[\"x\"]}"), "unknown",
     {"Content type &ldquo;text&rdquo;, shown as JSON"}, NULL, "Content type text"},
    /* media */
    {"image over https: loaded on a click",
     MEDIA("image", "{\"origin_url\":\"https://cdn.example/a.png\"}"), "image",
     {"<div class=\"media media-image\"><a class=\"remote\" href=\"https://cdn.example/a.png\"",
      " data-load=\"image\" data-host=\"cdn.example\">Image on <b class=\"host\">cdn.example</b>"},
     "<img", "Image"},
    {"video over http: only a link", MEDIA("video", "{\"origin_url\":\"http://v.example/a.mp4\"}"),
     "video", {"data-host=\"v.example\">Video on <b class=\"host\">v.example</b>"}, "data-load",
     "Video"},
    {"audio", MEDIA("audio", "{\"origin_url\":\"https://a.example/x.ogg\"}"), "audio",
     {"data-load=\"audio\"", "Audio on <b class=\"host\">a.example</b>"}, "<audio", "Audio"},
    {"image at an address that is not a web link",
     MEDIA("image", "{\"origin_url\":\"data:image/png;base64,AAAA\"}"), "image",
     {"<span class=\"bad-url\">Image " NOT_A_LINK "data:image/png;base64,AAAA</code>"}, "href=",
     "Image"},
    {"image without an address", MEDIA("image", "{\"url\":\"https://x.example/a.png\"}"),
     "unknown", {"Content type &ldquo;image&rdquo;"}, NULL, "Content type image"},
    {"file named",
     MEDIA("file", "{\"origin_url\":\"https://f.example/d/x.bin\",\"name\":\"<r>.pdf\"}"),
     "file", {"<div class=\"file\"><a class=\"file-link\" href=\"https://f.example/d/x.bin\"",
              ">&lt;r&gt;.pdf</a> <span class=\"host\">on f.example</span>"},
     NULL, "File &lt;r&gt;.pdf"},
    {"file named by its address",
     MEDIA("file", "{\"origin_url\":\"https://f.example/a%20b.pdf?x=1\"}"),
     "file", {">a b.pdf</a>"}, NULL, "File a b.pdf"},
    {"file named by nothing", MEDIA("file", "{\"origin_url\":\"https://f.example\",\"name\":\"\"}"),
     "file", {">file</a>"}, NULL, "File "},
    {"file at an address that is not a web link",
     MEDIA("file", "{\"origin_url\":\"ftp://f.example/y.pdf\"}"), "file",
     {"<div class=\"file\">y.pdf <span class=\"bad-url\">" NOT_A_LINK "ftp://f.example/y.pdf"},
     "href=", "File y.pdf"},
    /* templates */
    {"template: a text header, a body, no footer, no info",
     TEMPLATE("{\"type\":\"WhatsApp\",\"content\":{\"header\":{\"type\":\"text\",\"text\":\"Hi\"},"
              "\"body\":\"Body\",\"buttons\":[{\"text\":\"Go\"},{\"type\":\"URL\"}]}}"),
     "template",
     {"<div class=\"template\" data-template=\"WhatsApp\"><p class=\"t-header\">Hi</p>"
      "<p class=\"text t-body\">Body</p>",
      "<ul class=\"buttons\"><li class=\"button\">Go</li><li class=\"button\" title=\"URL\">"
      "(no caption)</li></ul>"},
     "t-info", "Body"},
    {"template: a video header, no body",
     TEMPLATE("{\"content\":{\"header\":{\"type\":\"video\",\"media\":{\"origin_url\":"
              "\"https://v.example/t.mp4\"}},\"footer\":\"f\"}}"),
     "template",
     {"data-template=\"\">", "Header video on <b class=\"host\">v.example</b>",
      "<p class=\"t-footer\">f</p>"},
     "t-body", "Template"},
    {"template: a document header",
     TEMPLATE("{\"content\":{\"header\":{\"type\":\"document\",\"media\":{\"origin_url\":"
              "\"https://d.example/terms.pdf\"}},\"body\":\"b\"}}"),
     "template", {"<div class=\"file\"><a class=\"file-link\"", ">terms.pdf</a>"}, NULL, "b"},
    {"template: a header of a shape not documented",
     TEMPLATE("{\"content\":{\"header\":{\"type\":\"location\",\"lat\":1},\"body\":\"b\"}}"),
     "template", {"<pre class=\"json\">{\n  &quot;type&quot;: &quot;location&quot;"},
     "class=\"unknown\"", "b"},
    {"template: a header without a type, info without a name",
     TEMPLATE("{\"content\":{\"header\":{\"text\":\"lost\"},\"body\":\"b\"},"
              "\"info\":{\"language\":\"id\"}}"),
     "template", {"<p class=\"t-info\">Template (unnamed) &middot; id</p>"}, "lost", "b"},
    {"template: info without a language",
     TEMPLATE("{\"content\":{\"body\":\"b\"},\"info\":{\"name\":\"promo\"}}"), "template",
     {"<p class=\"t-info\">Template promo</p>"}, "&middot;", "b"},
    {"Instagram template: cards with images",
     TEMPLATE("{\"type\":\"Instagram\",\"ins_content\":{\"payload\":{\"elements\":[{\"title\":"
              "\"T\",\"image_url\":\"https://i.example/c.jpg\"},{\"subtitle\":\"S\"}]}}}"),
     "template",
     {"<div class=\"card\"><div class=\"media media-image\">",
      "Image on <b class=\"host\">i.example</b>", "<p class=\"t-title\">T</p></div>",
      "<div class=\"card\"><p class=\"t-subtitle\">S</p></div>"},
     NULL, "Template"},
    {"Instagram template without elements: as JSON",
     TEMPLATE("{\"type\":\"Instagram\",\"ins_content\":{\"payload\":{\"text\":\"<x>\"}}}"),
     "template", {"data-template=\"Instagram\"><pre class=\"json\">", "&quot;&lt;x&gt;&quot;"},
     "class=\"card\"", "Template"},
    {"template of neither shape", TEMPLATE("{\"type\":\"WhatsApp\",\"body\":\"b\"}"), "unknown",
     {"Content type &ldquo;template&rdquo;"}, NULL, "Content type template"},
    /* interactive */
    {"buttons with a text header and a footer",
     INTERACTIVE("{\"type\":\"button\",\"header\":{\"type\":\"text\",\"text\":\"H\"},"
                 "\"body\":{\"text\":\"Pick\"},\"footer\":{\"text\":\"F\"},\"action\":{\"buttons\":"
                 "[{\"type\":\"reply\",\"reply\":{\"title\":\"A\"}},{\"reply\":{}}]}}"),
     "interactive.button",
     {"<div class=\"interactive\"><p class=\"t-header\">H</p><p class=\"text\">Pick</p>"
      "<p class=\"t-footer\">F</p>",
      "<li class=\"button\" title=\"reply\">A</li><li class=\"button\">(no caption)</li>"},
     NULL, "Pick"},
    {"a list with descriptions, without a body",
     INTERACTIVE("{\"type\":\"list\",\"action\":{\"button\":\"Menu\",\"sections\":[{\"rows\":["
                 "{\"title\":\"R1\",\"description\":\"D1\"},{\"description\":\"\"}]}]}}"),
     "interactive.list",
     {"<p class=\"list-button\">Menu</p><div class=\"sections\"><section><ul class=\"rows\">",
      "<span class=\"row-title\">R1</span> <span class=\"row-desc\">D1</span></li>",
      "<span class=\"row-title\">(no title)</span></li></ul></section></div>"},
     "section-title", ""},
    {"buttons without an array", INTERACTIVE("{\"type\":\"button\",\"action\":{\"buttons\":{}}}"),
     "unknown", {"Content type &ldquo;interactive&rdquo;"}, NULL, "Content type interactive"},
    {"a list without sections", INTERACTIVE("{\"type\":\"list\",\"action\":{}}"), "unknown",
     {"shown as JSON"}, NULL, "Content type interactive"},
    {"a list reply with a description",
     INTERACTIVE("{\"type\":\"list_reply\",\"list_reply\":{\"title\":\"T\","
                 "\"description\":\"D\"}}"),
     "interactive.list_reply", {"<p class=\"choice\">T</p><p class=\"row-desc\">D</p>"}, NULL,
     "T"},
    {"a list reply without a title", INTERACTIVE("{\"type\":\"list_reply\",\"list_reply\":{}}"),
     "unknown", {"shown as JSON"}, NULL, "Content type interactive"},
    {"a button reply",
     INTERACTIVE("{\"type\":\"button_reply\",\"button_reply\":{\"title\":\"Yes\"}}"),
     "interactive.button_reply", {"<p class=\"choice\">Yes</p>"}, "row-desc", "Yes"},
    {"a button reply without a title", INTERACTIVE("{\"type\":\"button_reply\"}"), "unknown",
     {"shown as JSON"}, NULL, "Content type interactive"},
    {"an interactive type not documented", INTERACTIVE("{\"type\":\"product\",\"body\":{}}"),
     "unknown", {"Content type &ldquo;interactive&rdquo;"}, NULL, "Content type interactive"},
    {"interactive text", CONTENT("{\"type\":\"interactive\",\"text\":\"chosen\"}"),
     "interactive.text", {"<div class=\"interactive\"><p class=\"text choice\">chosen</p></div>"},
     NULL, "chosen"},
    {"interactive with neither", CONTENT("{\"type\":\"interactive\"}"), "unknown",
     {"shown as JSON"}, NULL, "Content type interactive"},
    /* button, system */
    {"a button reply of a template", CONTENT("{\"type\":\"button\",\"text\":\"No <thanks>\"}"),
     "button", {"<p class=\"choice button-reply\">No &lt;thanks&gt;</p>"}, NULL,
     "No &lt;thanks&gt;"},
    {"a button without text", CONTENT("{\"type\":\"button\"}"), "unknown", {"shown as JSON"},
     NULL, "Content type button"},
    {"system: a transfer between seats",
     CONTENT("{\"type\":\"system\",\"system\":{\"type\":\"transfer\",\"from_seat_id\":\"s1\","
             "\"to_seat_id\":\"s2\"}}"),
     "system",
     {"<p class=\"system\">transfer &middot; from seat s1 &middot; to seat s2</p>"}, NULL,
     "transfer"},
    {"system: a type only", CONTENT("{\"type\":\"system\",\"system\":{\"type\":\"closed\"}}"),
     "system", {"<p class=\"system\">closed</p>"}, "seat", "closed"},
    {"system without a type", CONTENT("{\"type\":\"system\",\"system\":{}}"), "unknown",
     {"shown as JSON"}, NULL, "Content type system"},
    /* what is not a kind */
    {"a type not documented",
     CONTENT("{\"type\":\"location\",\"location\":{\"name\":\"<J>\"}}"), "unknown",
     {"<details class=\"unknown\" open><summary>Content type &ldquo;location&rdquo;, shown as "
      "JSON</summary><pre class=\"json\">",
      "&quot;name&quot;: &quot;&lt;J&gt;&quot;", "</pre></details>"},
     "<J>", "Content type location"},
    {"a content without a type", CONTENT("{\"text\":\"t\"}"), "unknown",
     {"<summary>Content type not given, shown as JSON</summary>"}, NULL, "Content type (none)"},
    {"an empty type", CONTENT("{\"type\":\"\"}"), "unknown", {"&ldquo;&rdquo;"}, NULL,
     "Content type (none)"},
    {"a type not a string", CONTENT("{\"type\":5}"), "unknown", {"not given"}, NULL,
     "Content type (none)"},
    {"no content: the message as JSON", "{\"msg_id\":\"only\"}", "unknown",
     {"not given", "&quot;msg_id&quot;: &quot;only&quot;"}, NULL, "Content type (none)"},
};

static char *render(void (*fn)(struct arb_buf *, json_t *), json_t *message)
{
    struct arb_buf out;
    arb_buf_init(&out);
    arb_buf_puts(&out, ""); /* an empty rendering is "", not NULL */
    fn(&out, message);
    return arb_buf_detach(&out, NULL);
}

static void test_messages(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(cases); i++) {
        const struct view_case *c = &cases[i];
        json_error_t jerr;
        print_message("case: %s\n", c->name);
        json_t *message = json_loads(c->message, JSON_PRESERVE_ORDER, &jerr);
        if (message == NULL)
            fail_msg("bad test JSON: %s", jerr.text);
        assert_string_equal(arb_message_kind(message), c->kind);
        char *html = render(arb_message_html, message);
        for (size_t f = 0; f < MAX_FRAGMENTS && c->html[f] != NULL; f++)
            if (strstr(html, c->html[f]) == NULL)
                fail_msg("HTML lacks \"%s\":\n%s", c->html[f], html);
        if (c->absent != NULL && strstr(html, c->absent) != NULL)
            fail_msg("HTML has \"%s\":\n%s", c->absent, html);
        if (strcmp(c->kind, "unknown") != 0 && strstr(html, "class=\"unknown\"") != NULL)
            fail_msg("a known kind fell back to JSON:\n%s", html);
        char *summary = render(arb_message_summary_html, message);
        assert_string_equal(summary, c->summary);
        free(summary);
        free(html);
        json_decref(message);
    }
}

/* A record without a message: the event itself. */
static void test_no_message(void **state)
{
    (void)state;
    assert_string_equal(arb_message_kind(NULL), "event");
    char *summary = render(arb_message_summary_html, NULL);
    assert_string_equal(summary, "(an event without messages)");
    free(summary);
}

static void test_json_html(void **state)
{
    (void)state;
    static const struct {
        const char *json; /* NULL: no value */
        const char *want;
    } values[] = {
        {NULL, "<pre class=\"json\">null</pre>"},
        {"\"</pre><script>\"", "<pre class=\"json\">&quot;&lt;/pre&gt;&lt;script&gt;&quot;</pre>"},
        {"[1,2.5]", "<pre class=\"json\">[\n  1,\n  2.5\n]</pre>"},
        {"{\"b\":1,\"a\":{}}",
         "<pre class=\"json\">{\n  &quot;b&quot;: 1,\n  &quot;a&quot;: {}\n}</pre>"},
    };
    for (size_t i = 0; i < COUNT(values); i++) {
        const size_t flags = JSON_DECODE_ANY | JSON_PRESERVE_ORDER;
        json_t *value = values[i].json != NULL ? json_loads(values[i].json, flags, NULL) : NULL;
        char *html = render(arb_message_json_html, value);
        assert_string_equal(html, values[i].want);
        free(html);
        json_decref(value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_no_message),
        cmocka_unit_test(test_json_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
