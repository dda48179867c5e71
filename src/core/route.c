/* route.c - event to topic routing (see route.h). */
#include "arb/route.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const placeholders[] = {"event", "channel", "company"};
#define NPLACEHOLDERS (sizeof(placeholders) / sizeof(placeholders[0]))

static bool topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* The placeholder named by text[0..len), or NULL. */
static const char *placeholder(const char *text, size_t len)
{
    for (size_t i = 0; i < NPLACEHOLDERS; i++)
        if (strlen(placeholders[i]) == len && strncmp(text, placeholders[i], len) == 0)
            return placeholders[i];
    return NULL;
}

int arb_route_check(const char *topic, struct arb_error *err)
{
    if (topic[0] == '\0')
        return arb_error_set(err, ARB_E_INVALID, "topic is empty");
    for (const char *p = topic; *p; p++) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close == NULL)
                return arb_error_set(err, ARB_E_INVALID, "topic \"%s\": unclosed '{'", topic);
            if (placeholder(p + 1, (size_t)(close - p - 1)) == NULL)
                return arb_error_set(err, ARB_E_INVALID,
                                     "topic \"%s\": unknown placeholder (use {event}, "
                                     "{channel} or {company})", topic);
            p = close;
        } else if (!topic_char(*p)) {
            /* a lone byte of a UTF-8 sequence or a control character is shown as a number */
            unsigned char c = (unsigned char)*p;
            if (c >= ' ' && c < 0x7f)
                return arb_error_set(err, ARB_E_INVALID,
                                     "topic \"%s\": '%c' is not allowed (use A-Z a-z 0-9 . _ -)",
                                     topic, c);
            return arb_error_set(err, ARB_E_INVALID,
                                 "topic \"%s\": byte 0x%02x is not allowed (use A-Z a-z 0-9 . _ -)",
                                 topic, c);
        }
    }
    if (strchr(topic, '{') == NULL && (strcmp(topic, ".") == 0 || strcmp(topic, "..") == 0))
        return arb_error_set(err, ARB_E_INVALID, "topic \"%s\" is not a valid name", topic);
    if (strchr(topic, '{') == NULL && strlen(topic) > ARB_TOPIC_MAX)
        return arb_error_set(err, ARB_E_INVALID, "topic is longer than %d characters",
                             ARB_TOPIC_MAX);
    return 0;
}

static const struct arb_route *match(const struct arb_route *routes, size_t count,
                                     const char *name, size_t name_len)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(routes[i].event, "*") == 0 ||
            (strlen(routes[i].event) == name_len && memcmp(routes[i].event, name, name_len) == 0))
            return &routes[i];
    return NULL;
}

/* Append value made safe to out[*len..], stopping at the topic length limit. Values are UTF-8
 * (the JSON check made sure), so skipping continuation bytes turns each character, not each
 * byte, outside the topic alphabet into one '_'. */
static void append_safe(char *out, size_t *len, const char *value, size_t value_len)
{
    if (value == NULL || value_len == 0) {
        value = "unknown";
        value_len = strlen(value);
    }
    for (size_t i = 0; i < value_len && *len < ARB_TOPIC_MAX; i++) {
        if (((unsigned char)value[i] & 0xc0) == 0x80)
            continue;
        out[(*len)++] = topic_char(value[i]) ? value[i] : '_';
    }
}

static void append_field(char *out, size_t *len, const char *name,
                         const struct arb_route_fields *fields)
{
    if (strcmp(name, "event") == 0)
        append_safe(out, len, fields->event, fields->event_len);
    else if (strcmp(name, "channel") == 0)
        append_safe(out, len, fields->channel, fields->channel_len);
    else
        append_safe(out, len, fields->company, fields->company_len);
}

int arb_route_topic(const struct arb_route *routes, size_t count,
                    const struct arb_route_fields *fields, char *out, struct arb_error *err)
{
    const char *name = fields->event != NULL ? fields->event : "";
    size_t name_len = fields->event != NULL ? fields->event_len : 0;
    const struct arb_route *route = match(routes, count, name, name_len);
    size_t len = 0;

    if (route == NULL)
        return arb_error_set(err, ARB_E_ROUTE, "event: no route for \"%.*s\"",
                             (int)(name_len < 64 ? name_len : 64), name);
    for (const char *p = route->topic; *p && len < ARB_TOPIC_MAX; p++) {
        const char *close = (*p == '{') ? strchr(p, '}') : NULL;
        const char *field = close ? placeholder(p + 1, (size_t)(close - p - 1)) : NULL;
        if (field == NULL) {
            out[len++] = *p;
            continue;
        }
        append_field(out, &len, field, fields);
        p = close;
    }
    out[len] = '\0';
    if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        return arb_error_set(err, ARB_E_ROUTE, "event: topic \"%s\" is not a valid name", out);
    return 0;
}

void arb_routes_free(struct arb_route *routes, size_t count)
{
    if (routes == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free(routes[i].event);
        free(routes[i].topic);
    }
    free(routes);
}
