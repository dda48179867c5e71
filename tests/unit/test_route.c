/* test_route.c - choosing the topic for an event, and checking topic templates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/mem.h"
#include <jansson.h>

#include "arb/route.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ROUTES 4

/* Strings of a given length, for the length limit. */
#define A10 "aaaaaaaaaa"
#define A50 A10 A10 A10 A10 A10
#define A249 A50 A50 A50 A50 A10 A10 A10 A10 "aaaaaaaaa"
#define B300 "{\"event\":\"e\",\"company\":\"" A50 A50 A50 A50 A50 A50 "\"}"

static const struct arb_route default_routes[] = {{"*", "airudder.messages"}};
static const struct arb_route by_name[] = {
    {"channel.message.sent", "chat.sent"},
    {"channel.message.sent", "never.used"},
    {"message.send", "bot.{event}"},
    {"*", "other.{event}"},
};
static const struct arb_route catch_all_first[] = {{"*", "all"}, {"message.send", "bot"}};
static const struct arb_route no_catch_all[] = {{"channel.message.sent", "chat"},
                                                {"message.send", "bot"}};
static const struct arb_route placeholders[] = {{"*", "airudder.{company}.{channel}.{event}"}};
static const struct arb_route company_only[] = {{"*", "{company}"}};
static const struct arb_route prefixed_company[] = {{"*", "x.{company}.y"}};

#define ROUTES(r) r, COUNT(r)

struct topic_case {
    const char *name;
    const struct arb_route *routes;
    size_t count;
    const char *event; /* JSON */
    const char *topic; /* NULL: no route */
    const char *message; /* when topic is NULL */
};

static const struct topic_case topic_cases[] = {
    {"default route", ROUTES(default_routes), "{\"event\":\"anything\"}", "airudder.messages",
     NULL},
    {"default route, no event", ROUTES(default_routes), "{}", "airudder.messages", NULL},
    {"first match wins", ROUTES(by_name), "{\"event\":\"channel.message.sent\"}", "chat.sent",
     NULL},
    {"exact name", ROUTES(by_name), "{\"event\":\"message.send\"}", "bot.message.send", NULL},
    {"catch-all after names", ROUTES(by_name), "{\"event\":\"session.ended\"}",
     "other.session.ended", NULL},
    {"no prefix match", ROUTES(by_name), "{\"event\":\"channel.message\"}",
     "other.channel.message", NULL},
    {"no case folding", ROUTES(by_name), "{\"event\":\"Message.Send\"}", "other.Message.Send",
     NULL},
    {"catch-all first wins", ROUTES(catch_all_first), "{\"event\":\"message.send\"}", "all",
     NULL},
    {"no catch-all, match", ROUTES(no_catch_all), "{\"event\":\"message.send\"}", "bot", NULL},
    {"no catch-all, no match", ROUTES(no_catch_all), "{\"event\":\"message.sent\"}", NULL,
     "event: no route for \"message.sent\""},
    {"no routes", NULL, 0, "{\"event\":\"e\"}", NULL, "event: no route for \"e\""},
    {"no event, no catch-all", ROUTES(no_catch_all), "{}", NULL, "event: no route for \"\""},
    {"long name cut in the message", ROUTES(no_catch_all), "{\"event\":\"" A50 A50 "\"}", NULL,
     "event: no route for \"" A50 "aaaaaaaaaaaaaa\""},
    /* placeholders */
    {"all placeholders", ROUTES(placeholders),
     "{\"event\":\"channel.message.sent\",\"company\":\"Chat_test\",\"channel\":\"WhatsApp\"}",
     "airudder.Chat_test.WhatsApp.channel.message.sent", NULL},
    {"spaces and slashes", ROUTES(placeholders),
     "{\"event\":\"a b/c\",\"company\":\"Acme Inc.\",\"channel\":\"web/chat\\\\x\"}",
     "airudder.Acme_Inc..web_chat_x.a_b_c", NULL},
    {"unicode, one '_' per character", ROUTES(placeholders),
     "{\"event\":\"e\",\"company\":\"\xe4\xb8\xad\xe6\x96\x87 Co\",\"channel\":\"\xc3\xa9t\xc3\xa9"
     "\xf0\x9f\x91\x89\"}",
     "airudder.___Co._t__.e", NULL},
    {"punctuation", ROUTES(placeholders),
     "{\"event\":\"a:b*c?\",\"company\":\"{company}\",\"channel\":\"#%+=\"}",
     "airudder._company_.____.a_b_c_", NULL},
    {"missing fields", ROUTES(placeholders), "{\"event\":\"e\"}", "airudder.unknown.unknown.e",
     NULL},
    {"empty fields", ROUTES(placeholders), "{\"event\":\"e\",\"company\":\"\",\"channel\":\"\"}",
     "airudder.unknown.unknown.e", NULL},
    {"non-string fields", ROUTES(placeholders),
     "{\"event\":\"e\",\"company\":7,\"channel\":{\"a\":\"b\"}}", "airudder.unknown.unknown.e",
     NULL},
    {"missing event", ROUTES(placeholders), "{\"company\":\"c\",\"channel\":\"h\"}",
     "airudder.c.h.unknown", NULL},
    {"length capped", ROUTES(company_only), B300, A249, NULL},
    {"length capped with literals", ROUTES(prefixed_company), B300, "x." A50 A50 A50 A50 A10 A10
     A10 A10 "aaaaaaa", NULL},
    {"exactly 249", ROUTES(company_only), "{\"company\":\"" A249 "\"}", A249, NULL},
    {"dot", ROUTES(company_only), "{\"company\":\".\"}", NULL,
     "event: topic \".\" is not a valid name"},
    {"dot dot", ROUTES(company_only), "{\"company\":\"..\"}", NULL,
     "event: topic \"..\" is not a valid name"},
    {"three dots", ROUTES(company_only), "{\"company\":\"...\"}", "...", NULL},
};

/* What the ingest hands routing: a field's text when it is a string, else none. */
static void string_field(const json_t *event, const char *key, const char **text, size_t *len)
{
    const json_t *value = json_object_get(event, key);
    *text = json_is_string(value) ? json_string_value(value) : NULL;
    *len = json_is_string(value) ? json_string_length(value) : 0;
}

static void test_topic(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(topic_cases); i++) {
        const struct topic_case *c = &topic_cases[i];
        json_t *event = json_loads(c->event, 0, NULL);
        char out[ARB_TOPIC_MAX + 1];
        struct arb_error err = {0};
        assert_non_null(event);
        struct arb_route_fields fields = {0};
        string_field(event, "event", &fields.event, &fields.event_len);
        string_field(event, "channel", &fields.channel, &fields.channel_len);
        string_field(event, "company", &fields.company, &fields.company_len);
        int rc = arb_route_topic(c->routes, c->count, &fields, out, &err);
        json_decref(event);

        if (c->topic != NULL) {
            if (rc != 0 || strcmp(out, c->topic) != 0)
                fail_msg("%s: rc %d topic \"%s\" (%s), want \"%s\"", c->name, rc,
                         rc == 0 ? out : "", err.message, c->topic);
            assert_in_range(strlen(out), 1, ARB_TOPIC_MAX);
            continue;
        }
        if (rc != -1 || err.code != ARB_E_ROUTE || strcmp(err.message, c->message) != 0)
            fail_msg("%s: rc %d code %d \"%s\", want \"%s\"", c->name, rc, (int)err.code,
                     err.message, c->message);
    }
}

/* ---- templates ---- */

#define ALLOWED "(use A-Z a-z 0-9 . _ -)"
#define UNKNOWN "unknown placeholder (use {event}, {channel} or {company})"

struct check_case {
    const char *topic;
    const char *message; /* NULL: valid */
};

static const struct check_case check_cases[] = {
    {"airudder.messages", NULL},
    {"a-b_c.D9", NULL},
    {"{event}", NULL},
    {"x.{event}.{channel}.{company}", NULL},
    {"{company}{company}", NULL},
    {"...", NULL},
    {A249, NULL},
    {A249 "{event}", NULL},
    {"", "topic is empty"},
    {".", "topic \".\" is not a valid name"},
    {"..", "topic \"..\" is not a valid name"},
    {A249 "a", "topic is longer than 249 characters"},
    {"bad topic", "topic \"bad topic\": ' ' is not allowed " ALLOWED},
    {"a/b", "topic \"a/b\": '/' is not allowed " ALLOWED},
    {"a:b", "topic \"a:b\": ':' is not allowed " ALLOWED},
    {"a}b", "topic \"a}b\": '}' is not allowed " ALLOWED},
    {"{event}}", "topic \"{event}}\": '}' is not allowed " ALLOWED},
    {"caf\xc3\xa9", "topic \"caf\xc3\xa9\": byte 0xc3 is not allowed " ALLOWED},
    {"a\tb", "topic \"a\tb\": byte 0x09 is not allowed " ALLOWED},
    {"a{evnt}", "topic \"a{evnt}\": " UNKNOWN},
    {"{Event}", "topic \"{Event}\": " UNKNOWN},
    {"{}", "topic \"{}\": " UNKNOWN},
    {"{ event }", "topic \"{ event }\": " UNKNOWN},
    {"{{event}}", "topic \"{{event}}\": " UNKNOWN},
    {"{call_id}", "topic \"{call_id}\": " UNKNOWN},
    {"a{event", "topic \"a{event\": unclosed '{'"},
    {"{event}.{", "topic \"{event}.{\": unclosed '{'"},
};

static void test_check(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(check_cases); i++) {
        const struct check_case *c = &check_cases[i];
        struct arb_error err = {0};
        int rc = arb_route_check(c->topic, &err);
        if (c->message == NULL) {
            if (rc != 0)
                fail_msg("\"%s\": rejected: %s", c->topic, err.message);
            continue;
        }
        if (rc != -1 || err.code != ARB_E_INVALID || strcmp(err.message, c->message) != 0)
            fail_msg("\"%s\": rc %d code %d \"%s\", want \"%s\"", c->topic, rc, (int)err.code,
                     err.message, c->message);
    }
}

static void test_routes_free(void **state)
{
    (void)state;
    struct arb_route *routes = arb_xcalloc(2, sizeof(*routes));
    routes[0].event = arb_xstrdup("*");
    routes[0].topic = arb_xstrdup("t");
    routes[1].event = arb_xstrdup("e"); /* half built: no topic yet */
    arb_routes_free(routes, 2);
    arb_routes_free(NULL, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_routes_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
