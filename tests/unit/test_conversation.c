/* test_conversation.c - a conversation as the viewer shows it: every content type of the
 * three fixtures has its own rendering (never the JSON fallback), sides by sender type,
 * quotes, the order of records across partitions, delivery outcomes under their records,
 * what a re-send from a record must read, the JSON for scripts, and hostile text shown as
 * text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/conversation.h"
#include "arb/mem.h"
#include "arb/search.h"

#include "support.h"

#define RECEIVED_AT INT64_C(1720160400123)
#define TOPIC "airudder.messages"

/* ---- helpers: records as the bridge writes them ---- */

struct rec {
    char *value;
    char msg_id[128], sender[32], call_id[128];
    struct arb_header headers[5];
    struct arb_conv_record record;
};

/* The record of message i of an event (its envelope, the message, the added fields). */
static void make_record(struct rec *r, json_t *event, size_t i, int32_t partition,
                        int64_t offset, int64_t received_at)
{
    json_t *messages = json_object_get(event, "messages");
    json_t *message = json_array_get(messages, i);
    json_t *value = json_deep_copy(event);
    json_object_del(value, "messages");
    json_object_set(value, "message", message);
    json_object_set_new(value, "message_index", json_integer((json_int_t)i));
    json_object_set_new(value, "message_count", json_integer((json_int_t)json_array_size(messages)));
    json_object_set_new(value, "received_at", json_integer(received_at));
    r->value = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(value);
    snprintf(r->msg_id, sizeof(r->msg_id), "%s", json_string_value(json_object_get(message, "msg_id")));
    snprintf(r->sender, sizeof(r->sender), "%s",
             json_string_value(json_object_get(message, "sender_type")));
    snprintf(r->call_id, sizeof(r->call_id), "%s", json_string_value(json_object_get(event, "call_id")));
    r->headers[0] = (struct arb_header){"airudder-call-id", r->call_id, strlen(r->call_id)};
    r->headers[1] = (struct arb_header){"airudder-msg-id", r->msg_id, strlen(r->msg_id)};
    r->headers[2] = (struct arb_header){"airudder-sender-type", r->sender, strlen(r->sender)};
    r->headers[3] = (struct arb_header){"airudder-event", "channel.message.sent", 20};
    r->headers[4] = (struct arb_header){"airudder-request-id", "5d0ecaa90f39b7c09e8eea1c1854d308", 32};
    r->record = (struct arb_conv_record){
        .topic = TOPIC,
        .partition = partition,
        .offset = offset,
        .timestamp_ms = received_at,
        .key = r->call_id,
        .key_len = strlen(r->call_id),
        .value = r->value,
        .value_len = strlen(r->value),
        .headers = r->headers,
        .nheaders = 5,
    };
}

static json_t *load_event(const char *fixture)
{
    size_t len;
    char *text = read_fixture(fixture, &len);
    json_t *event = json_loadb(text, len, 0, NULL);
    assert_non_null(event);
    free(text);
    return event;
}

/* A conversation of every message of an event, in partition 0 from offset 0. */
static struct arb_conversation *conversation_of(json_t *event)
{
    struct arb_conversation *conv =
        arb_conversation_new(json_string_value(json_object_get(event, "call_id")));
    size_t n = json_array_size(json_object_get(event, "messages"));
    for (size_t i = 0; i < n; i++) {
        struct rec r;
        make_record(&r, event, i, 0, (int64_t)i, RECEIVED_AT);
        assert_true(arb_conversation_add_record(conv, &r.record, 100));
        free(r.value);
    }
    return conv;
}

static json_t *as_json(struct arb_conversation *conv)
{
    struct arb_buf out;
    const struct arb_conversation_view view = {0};
    arb_buf_init(&out);
    arb_conversation_json(conv, &view, &out);
    json_t *doc = json_loads(out.data, 0, NULL);
    assert_non_null(doc);
    arb_buf_free(&out);
    return doc;
}

static char *as_html(struct arb_conversation *conv, bool resend)
{
    struct arb_buf out;
    const struct arb_conversation_view view = {.resend = resend, .from = "2024-07-05T00:00:00Z"};
    arb_buf_init(&out);
    arb_conversation_html(conv, &view, &out);
    return arb_buf_detach(&out, NULL);
}

/* The values of one field of every record of the JSON, comma-separated. */
static char *field_list(json_t *doc, const char *field)
{
    struct arb_buf out;
    size_t i;
    json_t *record;
    arb_buf_init(&out);
    json_array_foreach(json_object_get(doc, "records"), i, record) {
        if (i > 0)
            arb_buf_puts(&out, ",");
        const char *value = json_string_value(json_object_get(record, field));
        arb_buf_puts(&out, value != NULL ? value : "null");
    }
    return arb_buf_detach(&out, NULL);
}

static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Nothing on the page is loaded from elsewhere, and nothing fell back to raw JSON. */
static void assert_safe_and_known(const char *html)
{
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<video"));
    assert_null(strstr(html, "<audio"));
    assert_null(strstr(html, "<iframe"));
    assert_int_equal(count(html, "<script"), 1); /* the viewer's own, by src */
    assert_non_null(strstr(html, "<script src=\"/static/viewer.js\" defer></script>"));
    assert_null(strstr(html, "class=\"unknown\""));
    assert_null(strstr(html, " style="));
}

/* ---- the fixtures ---- */

static void test_seed_renders_every_content_type(void **state)
{
    (void)state;
    json_t *event = load_event("channel.message.sent.json");
    struct arb_conversation *conv = conversation_of(event);
    arb_conversation_finish(conv);
    json_t *doc = as_json(conv);
    char *kinds = field_list(doc, "kind"), *sides = field_list(doc, "side");
    assert_string_equal(kinds, "template,text,image,file,interactive.button,interactive.list,text");
    assert_string_equal(sides, "left,left,left,left,left,left,left");

    char *html = as_html(conv, false);
    assert_safe_and_known(html);
    /* the template: header image as a link naming its host, body, footer, buttons */
    assert_non_null(strstr(html, "data-load=\"image\" data-host=\"www.planetware.com\">Header image on "
                                 "<b class=\"host\">www.planetware.com</b>"));
    assert_non_null(strstr(html, "<p class=\"text t-body\">Hi, tom, we will hold a party"));
    assert_non_null(strstr(html, "<p class=\"t-footer\">welcome</p>"));
    assert_non_null(strstr(html, "<li class=\"button\" title=\"QUICK_REPLY\">no</li>"));
    assert_non_null(strstr(html, "<li class=\"button\" title=\"OPT_OUT\">yes</li>"));
    assert_non_null(strstr(html, "Template opt_out_02_27_english &middot; en"));
    /* text, UTF-8 as is */
    assert_non_null(strstr(html, "一位来自WhatsApp的朋友 ,欢迎使用 AIRudder 客户服务"));
    /* the image: a link, its host named */
    assert_non_null(strstr(html, "Image on <b class=\"host\">test-airudder-dmrobot.oss-cn-hongkong.aliyuncs.com</b>"));
    /* the file: its name and a link */
    assert_non_null(strstr(html, "rel=\"noopener noreferrer nofollow\">welcome_to_Earth.pdf</a>"));
    /* interactive buttons and list */
    assert_non_null(strstr(html, "<li class=\"button\" title=\"reply\">男</li>"));
    assert_non_null(strstr(html, "<p class=\"list-button\">请选择</p>"));
    assert_non_null(strstr(html, "<p class=\"section-title\">寄件类</p>"));
    assert_non_null(strstr(html, "<span class=\"row-title\">小件快递</span>"));
    /* the agent, marked */
    assert_int_equal(count(html, "<span class=\"badge agent\">agent</span>"), 1);
    assert_non_null(strstr(html, "data-kind=\"text\" data-sender=\"agent\""));
    /* times of the messages and of receipt */
    assert_non_null(strstr(html, "<time datetime=\"2024-07-05T06:05:00Z\">2024-07-05 06:05:00 UTC</time>"));
    assert_non_null(strstr(html, "2024-07-05 06:20:00.123 UTC"));
    /* no delivery log yet */
    assert_int_equal(count(html, "data-status=\"none\""), 7);
    assert_null(strstr(html, "Re-send from here"));
    free(html);
    free(kinds);
    free(sides);
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

static void test_session_end_renders_every_content_type(void **state)
{
    (void)state;
    json_t *event = load_event("workflow.session.end.json");
    struct arb_conversation *conv = conversation_of(event);
    arb_conversation_finish(conv);
    json_t *doc = as_json(conv);
    char *kinds = field_list(doc, "kind"), *sides = field_list(doc, "side");
    assert_string_equal(kinds, "system,template,button");
    assert_string_equal(sides, "left,left,right");
    char *html = as_html(conv, false);
    assert_safe_and_known(html);
    assert_non_null(strstr(html, "<p class=\"system\">conversation.start</p>"));
    assert_non_null(strstr(html, "<p class=\"choice button-reply\">no</p>"));
    /* the user's answer quotes the template (by its own copy: the fixture's ids differ) */
    assert_non_null(strstr(html, "<blockquote class=\"quote\"><span class=\"q-sender\">chatbot</span> "
                                 "Hi, tom, we will hold a party"));
    assert_non_null(strstr(html, "<span class=\"badge status\">read</span>"));
    /* the envelope of a session end */
    assert_non_null(strstr(html, "<dt>session_end_reason</dt><dd>robot</dd>"));
    assert_non_null(strstr(html, "<dt>ner_slots</dt><dd>{&quot;test_echo&quot;:&quot;okhhhhh&quot;}</dd>"));
    free(html);
    free(kinds);
    free(sides);
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

static void test_bot_reply_callback_renders_every_content_type(void **state)
{
    (void)state;
    json_t *event = load_event("message.send.json");
    struct arb_conversation *conv = conversation_of(event);
    arb_conversation_finish(conv);
    json_t *doc = as_json(conv);
    char *kinds = field_list(doc, "kind");
    assert_string_equal(kinds, "text,image,video,audio,file,interactive.list");
    char *html = as_html(conv, false);
    assert_safe_and_known(html);
    assert_non_null(strstr(html, "data-load=\"video\" data-host=\"example.com\">Video on"));
    assert_non_null(strstr(html, "data-load=\"audio\" data-host=\"example.com\">Audio on"));
    assert_non_null(strstr(html, ">filename</a> <span class=\"host\">on example.com</span>"));
    free(html);
    free(kinds);
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

/* Every other documented shape (airudder-events.md section 5): replies to lists and
 * buttons, the query API's interactive text, an Instagram template. */
static void test_documented_shapes(void **state)
{
    (void)state;
    json_t *event = json_loads(
        "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":["
        "{\"msg_id\":\"a\",\"sender_type\":\"user\",\"content\":{\"type\":\"interactive\","
        "\"interactive\":{\"type\":\"list_reply\",\"list_reply\":{\"id\":\"x-3-1-list-0-0-\",\"title\":\"物流查询\"}}}},"
        "{\"msg_id\":\"b\",\"sender_type\":\"user\",\"content\":{\"type\":\"interactive\","
        "\"interactive\":{\"type\":\"button_reply\",\"button_reply\":{\"id\":\"x-2-1-button-0-\",\"title\":\"男\"}}}},"
        "{\"msg_id\":\"c\",\"sender_type\":\"user\",\"content\":{\"type\":\"interactive\",\"text\":\"女\"},"
        "\"reply\":{\"msg_id\":\"b\",\"sender_type\":\"robot\",\"content\":{\"type\":\"text\",\"text\":\"which?\"}}},"
        "{\"msg_id\":\"d\",\"sender_type\":\"robot\",\"content\":{\"type\":\"template\",\"template\":{"
        "\"type\":\"Instagram\",\"ins_content\":{\"type\":\"template\",\"payload\":{\"template_type\":\"generic\","
        "\"elements\":[{\"title\":\"Card one\",\"subtitle\":\"sub\",\"buttons\":[{\"type\":\"postback\","
        "\"title\":\"Pick\",\"payload\":\"p\"}]}]}}}}}]}",
        0, NULL);
    struct arb_conversation *conv = conversation_of(event);
    arb_conversation_finish(conv);
    json_t *doc = as_json(conv);
    char *kinds = field_list(doc, "kind"), *sides = field_list(doc, "side");
    assert_string_equal(kinds, "interactive.list_reply,interactive.button_reply,interactive.text,template");
    assert_string_equal(sides, "right,right,right,left");
    char *html = as_html(conv, false);
    assert_safe_and_known(html);
    assert_non_null(strstr(html, "<p class=\"choice\">物流查询</p>"));
    assert_non_null(strstr(html, "<p class=\"text choice\">女</p>"));
    /* the quoted message is in the conversation: a link to it */
    assert_non_null(strstr(html, "<span class=\"q-sender\">robot</span> <a href=\"#r1\">which?</a>"));
    assert_non_null(strstr(html, "<p class=\"t-title\">Card one</p>"));
    assert_non_null(strstr(html, "<li class=\"button\" title=\"postback\">Pick</li>"));
    free(html);
    free(kinds);
    free(sides);
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

/* ---- safety ---- */

static void test_hostile_text_is_shown_as_text(void **state)
{
    (void)state;
    json_t *event = json_loads(
        "{\"event\":\"e\",\"call_id\":\"c\\\"><script>alert(0)</script>\",\"messages\":["
        "{\"msg_id\":\"\\\" onmouseover=\\\"alert(1)\",\"sender_type\":\"user<b>\",\"content\":"
        "{\"type\":\"text\",\"text\":\"<script>alert(2)</script><img src=x onerror=alert(3)>&amp;\"}},"
        "{\"msg_id\":\"m2\",\"sender_type\":\"robot\",\"content\":{\"type\":\"image\",\"media\":"
        "{\"origin_url\":\"javascript:alert(4)\"}}},"
        "{\"msg_id\":\"m3\",\"sender_type\":\"robot\",\"content\":{\"type\":\"file\",\"media\":"
        "{\"origin_url\":\"https://evil.example/x\\\" onclick=\\\"alert(5)\",\"name\":\"<i>a.pdf</i>\"}}},"
        "{\"msg_id\":\"m4\",\"sender_type\":\"robot\",\"content\":{\"type\":\"image\",\"media\":"
        "{\"origin_url\":\"https://user@evil.example/a.png\"}}},"
        "{\"msg_id\":\"m5\",\"sender_type\":\"robot\",\"content\":{\"type\":\"text\",\"text\":\"a\\u0001b\\u0007c\"}}]}",
        0, NULL);
    assert_non_null(event);
    struct arb_conversation *conv = conversation_of(event);
    arb_conversation_finish(conv);
    char *html = as_html(conv, true);
    assert_int_equal(count(html, "<script"), 1);
    assert_non_null(strstr(html, "&lt;script&gt;alert(2)&lt;/script&gt;&lt;img src=x onerror=alert(3)&gt;&amp;amp;"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>"));
    assert_null(strstr(html, "\" onmouseover="));
    assert_non_null(strstr(html, "data-msg-id=\"&quot; onmouseover=&quot;alert(1)\""));
    assert_null(strstr(html, "<i>"));
    assert_null(strstr(html, "href=\"javascript"));
    assert_null(strstr(html, "onclick=\""));
    assert_null(strstr(html, "evil.example/a.png\"")); /* user info: not a link */
    assert_non_null(strstr(html, "Image at an address that is not a web link: <code>javascript:alert(4)</code>"));
    assert_non_null(strstr(html, "<p class=\"text\">abc</p>")); /* controls dropped */
    assert_non_null(strstr(html, "value=\"c&quot;&gt;&lt;script&gt;alert(0)&lt;/script&gt;\""));
    free(html);
    arb_conversation_destroy(conv);
    json_decref(event);
}

static void test_unknown_type_falls_back_to_json(void **state)
{
    (void)state;
    json_t *event = json_loads(
        "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":["
        "{\"msg_id\":\"a\",\"sender_type\":\"user\",\"content\":{\"type\":\"location\","
        "\"location\":{\"lat\":-6.2,\"name\":\"<Jakarta>\"}}},"
        "{\"msg_id\":\"b\",\"sender_type\":\"robot\",\"content\":{\"type\":\"text\",\"text\":42}}]}",
        0, NULL);
    struct arb_conversation *conv = conversation_of(event);
    arb_conversation_finish(conv);
    json_t *doc = as_json(conv);
    char *kinds = field_list(doc, "kind");
    assert_string_equal(kinds, "unknown,unknown");
    char *html = as_html(conv, false);
    assert_non_null(strstr(html, "<details class=\"unknown\" open><summary>Content type &ldquo;location"
                                 "&rdquo;, shown as JSON</summary><pre class=\"json\">{\n  &quot;type&quot;: "
                                 "&quot;location&quot;,\n  &quot;location&quot;: {\n    &quot;lat&quot;: -6.2,\n"));
    assert_non_null(strstr(html, "&quot;name&quot;: &quot;&lt;Jakarta&gt;&quot;"));
    assert_int_equal(count(html, "class=\"unknown\""), 2);
    free(html);
    free(kinds);
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

/* A record without a message (an event without messages) and one that is not JSON. */
static void test_records_without_a_message(void **state)
{
    (void)state;
    struct arb_conversation *conv = arb_conversation_new("c");
    const char *values[] = {"{\"event\":\"generic\",\"call_id\":\"c\",\"status\":\"<closed>\","
                            "\"message_count\":0,\"received_at\":1}",
                            "<not json>"};
    for (size_t i = 0; i < 2; i++) {
        const struct arb_conv_record r = {.topic = TOPIC, .offset = (int64_t)i, .timestamp_ms = 1,
                                          .key = "c", .key_len = 1, .value = values[i],
                                          .value_len = strlen(values[i])};
        assert_true(arb_conversation_add_record(conv, &r, 10));
    }
    arb_conversation_finish(conv);
    json_t *doc = as_json(conv);
    char *kinds = field_list(doc, "kind"), *sides = field_list(doc, "side");
    assert_string_equal(kinds, "event,event");
    assert_string_equal(sides, "center,center");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "records"), 1), "value")),
                        "<not json>");
    char *html = as_html(conv, false);
    assert_non_null(strstr(html, "&quot;status&quot;: &quot;&lt;closed&gt;&quot;"));
    assert_non_null(strstr(html, "<pre class=\"raw\">&lt;not json&gt;</pre>"));
    assert_null(strstr(html, "<not"));
    free(html);
    free(kinds);
    free(sides);
    json_decref(doc);
    arb_conversation_destroy(conv);
}

/* ---- order, outcomes, re-send ---- */

static json_t *three_messages(void)
{
    return json_loads("{\"event\":\"e\",\"call_id\":\"c\",\"messages\":["
                      "{\"msg_id\":\"m0\",\"sender_type\":\"robot\",\"content\":{\"type\":\"text\",\"text\":\"zero\"}},"
                      "{\"msg_id\":\"m1\",\"sender_type\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"one\"}},"
                      "{\"msg_id\":\"m2\",\"sender_type\":\"robot\",\"content\":{\"type\":\"text\",\"text\":\"two\"}}]}",
                      0, NULL);
}

static void add(struct arb_conversation *conv, json_t *event, size_t i, int32_t partition,
                int64_t offset, int64_t ts)
{
    struct rec r;
    make_record(&r, event, i, partition, offset, ts);
    assert_true(arb_conversation_add_record(conv, &r.record, 100));
    free(r.value);
}

static void test_order_keeps_partitions_and_merges_by_time(void **state)
{
    (void)state;
    json_t *event = three_messages();
    struct arb_conversation *conv = arb_conversation_new("c");
    /* partition 2 first, offsets out of order; partition 0 in between in time; a clock step
     * back inside partition 2 must not reorder it */
    add(conv, event, 2, 2, 11, 3000);
    add(conv, event, 0, 2, 10, 5000);
    add(conv, event, 1, 0, 4, 4000);
    arb_conversation_finish(conv);
    json_t *doc = as_json(conv);
    char *ids = field_list(doc, "msg_id");
    /* p2/10 (5000) must come before p2/11 (3000); p0/4 (4000) before both */
    assert_string_equal(ids, "m1,m0,m2");
    assert_int_equal(arb_conversation_find(conv, TOPIC, 2, 11), 2);
    assert_int_equal(arb_conversation_find(conv, TOPIC, 0, 4), 0);
    assert_int_equal(arb_conversation_find(conv, TOPIC, 0, 5), -1);
    free(ids);
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

static void add_outcome(struct arb_conversation *conv, const char *call_id, int32_t partition,
                        int64_t offset, enum arb_outcome_status status, long desk_status,
                        const char *mode, int64_t done)
{
    const struct arb_outcome o = {
        .status = status, .mode = mode, .call_id = call_id, .call_id_len = strlen(call_id),
        .topic = TOPIC, .partition = partition, .offset = offset, .attempts = 1,
        .desk_status = desk_status, .reason = status == ARB_OUTCOME_DEADLETTERED ? "desk refused it (HTTP 400)" : NULL,
        .first_attempt_ms = done - 5, .last_attempt_ms = done - 5, .done_ms = done,
    };
    struct arb_buf value;
    arb_buf_init(&value);
    arb_outcome_encode(&o, &value);
    assert_int_equal(arb_conversation_add_outcome(conv, value.data, value.len, NULL), 0);
    arb_buf_free(&value);
}

static void test_outcomes_under_their_records(void **state)
{
    (void)state;
    json_t *event = three_messages();
    struct arb_conversation *conv = arb_conversation_new("c");
    for (size_t i = 0; i < 3; i++)
        add(conv, event, i, 1, (int64_t)i + 7, RECEIVED_AT);
    add_outcome(conv, "c", 1, 7, ARB_OUTCOME_DELIVERED, 200, "service", RECEIVED_AT + 100);
    add_outcome(conv, "c", 1, 8, ARB_OUTCOME_DEADLETTERED, 400, "service", RECEIVED_AT + 200);
    add_outcome(conv, "c", 1, 7, ARB_OUTCOME_DELIVERED, 200, "resend", RECEIVED_AT + 900);
    add_outcome(conv, "other", 1, 9, ARB_OUTCOME_DELIVERED, 200, "service", RECEIVED_AT + 300);
    assert_int_equal(arb_conversation_add_outcome(conv, "nonsense", 8, NULL), -1);
    arb_conversation_finish(conv);
    char *html = as_html(conv, false);
    const char *first = strstr(html, "id=\"r0\""), *second = strstr(html, "id=\"r1\""),
               *third = strstr(html, "id=\"r2\"");
    assert_non_null(first);
    assert_non_null(second);
    assert_non_null(third);
    /* r0: delivered, then re-sent and delivered, in that order */
    const char *delivered = strstr(first, "<p class=\"outcome delivered\" data-status=\"delivered\">Delivered at");
    const char *resent = strstr(first, "Re-sent, delivered at");
    assert_true(delivered != NULL && delivered < second);
    assert_true(resent != NULL && resent > delivered && resent < second);
    assert_non_null(strstr(first, "2024-07-05 06:20:00.223 UTC"));
    /* r1: dead-lettered with the desk's answer */
    const char *dead = strstr(second, "data-status=\"dead-lettered\">Dead-lettered at");
    assert_true(dead != NULL && dead < third);
    const char *status = strstr(second, "<span class=\"desk-status\" data-desk-status=\"400\">desk answered HTTP 400</span>");
    assert_true(status != NULL && status < third);
    assert_non_null(strstr(second, "<span class=\"reason\">desk refused it (HTTP 400)</span>"));
    /* r2: nothing (the other conversation's outcome is not its) */
    assert_non_null(strstr(third, "data-status=\"none\""));
    assert_non_null(strstr(html, "3 messages, in the order the desk gets them: 1 delivered, 1 dead-lettered, 1 with no delivery recorded."));
    free(html);

    json_t *doc = as_json(conv);
    json_t *records = json_object_get(doc, "records");
    assert_int_equal(json_array_size(json_object_get(json_array_get(records, 0), "deliveries")), 2);
    json_t *dl = json_array_get(json_object_get(json_array_get(records, 1), "deliveries"), 0);
    assert_string_equal(json_string_value(json_object_get(dl, "status")), "dead-lettered");
    assert_int_equal(json_integer_value(json_object_get(dl, "desk_status")), 400);
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

/* A copy the replay did not send (its partition delivered the key already): shown as such,
 * counted apart. */
static void test_skipped_copy(void **state)
{
    (void)state;
    json_t *event = three_messages();
    struct arb_conversation *conv = arb_conversation_new("c");
    for (size_t i = 0; i < 3; i++)
        add(conv, event, i, 1, (int64_t)i + 7, RECEIVED_AT);
    add_outcome(conv, "c", 1, 7, ARB_OUTCOME_DELIVERED, 200, "service", RECEIVED_AT + 100);
    add_outcome(conv, "c", 1, 8, ARB_OUTCOME_SKIPPED, 0, "service", RECEIVED_AT + 200);
    arb_conversation_finish(conv);
    char *html = as_html(conv, false);
    const char *second = strstr(html, "id=\"r1\""), *third = strstr(html, "id=\"r2\"");
    assert_non_null(second);
    const char *skipped = strstr(second, "<p class=\"outcome skipped\" data-status=\"skipped\">"
                                         "Skipped as a duplicate at <time");
    assert_true(skipped != NULL && skipped < third);
    assert_non_null(strstr(skipped, "&middot; its partition delivered its Idempotency-Key "
                                    "already</p>"));
    assert_true(strstr(skipped, "attempt") == NULL || strstr(skipped, "attempt") > third);
    assert_non_null(strstr(html, "3 messages, in the order the desk gets them: 1 delivered, "
                                 "0 dead-lettered, 1 skipped as duplicates, 1 with no delivery "
                                 "recorded."));
    free(html);
    json_t *doc = as_json(conv);
    json_t *records = json_object_get(doc, "records");
    json_t *dl = json_array_get(json_object_get(json_array_get(records, 1), "deliveries"), 0);
    assert_string_equal(json_string_value(json_object_get(dl, "status")), "skipped");
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

static void test_resend_plan(void **state)
{
    (void)state;
    json_t *event = three_messages();
    struct arb_conversation *conv = arb_conversation_new("c");
    add(conv, event, 0, 0, 3, 1000);
    add(conv, event, 1, 1, 8, 2000);
    add(conv, event, 2, 0, 5, 3000);
    arb_conversation_finish(conv);
    struct arb_offset_spec *starts = NULL;
    size_t nstarts = 0;
    int64_t until = 0;
    /* from the second message (p1/8): p1 from 8 and p0 from 5, until 3000 */
    assert_int_equal(arb_conversation_resend_plan(conv, 1, &starts, &nstarts, &until), 2);
    assert_int_equal(nstarts, 2);
    assert_string_equal(starts[0].topic, TOPIC);
    assert_int_equal(starts[0].partition, 1);
    assert_int_equal(starts[0].offset, 8);
    assert_int_equal(starts[1].partition, 0);
    assert_int_equal(starts[1].offset, 5);
    assert_int_equal(until, 3000);
    for (size_t i = 0; i < nstarts; i++)
        free(starts[i].topic);
    free(starts);

    /* the confirmation lists exactly those, and posts the token */
    struct arb_buf out;
    const struct arb_conversation_view view = {.resend = true, .desk = "desk.example"};
    arb_buf_init(&out);
    arb_conversation_confirm_html(conv, 1, &view, &out);
    assert_int_equal(count(out.data, "<li data-offset="), 2);
    assert_non_null(strstr(out.data, "<form class=\"confirm-resend\" method=\"post\" action=\"/resend\">"));
    assert_non_null(strstr(out.data, "<input type=\"hidden\" name=\"offset\" value=\"8\">"));
    assert_non_null(strstr(out.data, "<input type=\"password\" name=\"token\" required"));
    assert_non_null(strstr(out.data, "Re-send 2 messages"));
    assert_non_null(strstr(out.data, "<b class=\"host\">desk.example</b>"));
    arb_buf_free(&out);

    char *html = as_html(conv, true);
    assert_int_equal(count(html, "Re-send from here"), 3);
    assert_non_null(strstr(html, "<input type=\"hidden\" name=\"from\" value=\"2024-07-05T00:00:00Z\">"));
    free(html);
    arb_conversation_destroy(conv);
    json_decref(event);
}

static void test_repeats_and_truncation(void **state)
{
    (void)state;
    json_t *event = three_messages();
    struct arb_conversation *conv = arb_conversation_new("c");
    add(conv, event, 0, 0, 0, 1000);
    add(conv, event, 0, 0, 1, 2000); /* the same webhook again: same request id and index */
    struct rec r;
    make_record(&r, event, 1, 0, 2, 3000);
    assert_false(arb_conversation_add_record(conv, &r.record, 2));
    free(r.value);
    arb_conversation_finish(conv);
    json_t *doc = as_json(conv);
    json_t *records = json_object_get(doc, "records");
    assert_int_equal(json_array_size(records), 2);
    assert_false(json_is_true(json_object_get(json_array_get(records, 0), "repeat")));
    assert_true(json_is_true(json_object_get(json_array_get(records, 1), "repeat")));
    assert_true(json_is_true(json_object_get(doc, "truncated")));
    char *html = as_html(conv, false);
    assert_non_null(strstr(html, "Only the first 2 records are shown"));
    assert_int_equal(count(html, "class=\"badge repeat\""), 1);
    free(html);
    json_decref(doc);
    arb_conversation_destroy(conv);
    json_decref(event);
}

static void test_resend_summary(void **state)
{
    (void)state;
    const struct arb_outcome outcomes[] = {
        {.status = ARB_OUTCOME_DELIVERED, .mode = "resend", .topic = TOPIC, .partition = 0,
         .offset = 5, .msg_id = "m1", .attempts = 2, .desk_status = 200, .done_ms = RECEIVED_AT},
        {.status = ARB_OUTCOME_DEADLETTERED, .mode = "resend", .topic = TOPIC, .partition = 0,
         .offset = 6, .msg_id = "<m2>", .attempts = 1, .desk_status = 400,
         .reason = "desk refused it (HTTP 400)", .done_ms = RECEIVED_AT},
    };
    const struct arb_resend_summary summary = {"c", NULL, 2, 2, outcomes, 2};
    const struct arb_conversation_view view = {0};
    struct arb_buf out;
    arb_buf_init(&out);
    arb_resend_summary_html(&summary, &view, &out);
    assert_non_null(strstr(out.data, "data-ok=\"true\" data-sent=\"2\" data-delivered=\"1\" data-deadlettered=\"1\""));
    assert_non_null(strstr(out.data, "2 of the 2 planned messages sent: 1 delivered, 1 dead-lettered."));
    assert_non_null(strstr(out.data, "<code>&lt;m2&gt;</code>"));
    assert_non_null(strstr(out.data, "href=\"/conversation?call_id=c\""));
    arb_buf_reset(&out);
    arb_resend_summary_json(&summary, &out);
    json_t *doc = json_loads(out.data, 0, NULL);
    assert_true(json_is_true(json_object_get(doc, "ok")));
    assert_int_equal(json_integer_value(json_object_get(doc, "sent")), 2);
    assert_int_equal(json_array_size(json_object_get(doc, "outcomes")), 2);
    json_decref(doc);
    arb_buf_free(&out);
}

/* ---- search ---- */

static void test_search_groups_filters_and_orders(void **state)
{
    (void)state;
    json_t *event = three_messages();
    struct arb_search *search = arb_search_new("c", 2);
    struct rec r;
    const char *ids[] = {"conv-a", "conv-b", "conv-a", "other", "conv-c"};
    const int64_t ts[] = {1000, 2000, 3000, 4000, 5000};
    for (size_t i = 0; i < 5; i++) {
        make_record(&r, event, i % 3, 0, (int64_t)i, ts[i]);
        snprintf(r.call_id, sizeof(r.call_id), "%s", ids[i]);
        r.headers[0].len = strlen(r.call_id);
        r.record.key_len = strlen(r.call_id);
        arb_search_add(search, &r.record);
        free(r.value);
    }
    struct arb_buf out;
    const struct arb_search_view view = {.searched = true, .scanned = 5, .from = "1000"};
    arb_buf_init(&out);
    arb_search_json(search, &view, &out);
    json_t *doc = json_loads(out.data, 0, NULL);
    json_t *list = json_object_get(doc, "conversations");
    /* "other" does not contain "c"... it does not; conv-c is past max (2) */
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "call_id")), "conv-a");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "records")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "first")), 1000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "last")), 3000);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "call_id")), "conv-b");
    assert_int_equal(json_integer_value(json_object_get(doc, "not_listed")), 1);
    json_decref(doc);
    arb_buf_reset(&out);
    arb_search_html(search, &view, &out);
    assert_non_null(strstr(out.data, "href=\"/conversation?call_id=conv-a&amp;from=1000\""));
    assert_non_null(strstr(out.data, "<td>two</td>")); /* conv-a's last message */
    arb_buf_free(&out);
    arb_search_destroy(search);
    json_decref(event);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_renders_every_content_type),
        cmocka_unit_test(test_session_end_renders_every_content_type),
        cmocka_unit_test(test_bot_reply_callback_renders_every_content_type),
        cmocka_unit_test(test_documented_shapes),
        cmocka_unit_test(test_hostile_text_is_shown_as_text),
        cmocka_unit_test(test_unknown_type_falls_back_to_json),
        cmocka_unit_test(test_records_without_a_message),
        cmocka_unit_test(test_order_keeps_partitions_and_merges_by_time),
        cmocka_unit_test(test_outcomes_under_their_records),
        cmocka_unit_test(test_skipped_copy),
        cmocka_unit_test(test_resend_plan),
        cmocka_unit_test(test_repeats_and_truncation),
        cmocka_unit_test(test_resend_summary),
        cmocka_unit_test(test_search_groups_filters_and_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
