/* delivery.c - a record's body and headers for the desk (see delivery.h).
 *
 * The value is scanned once (json_index.h, its top-level members indexed): for its
 * message_index, and with format "event" to rebuild the event by splicing the value's own
 * bytes: every top-level member but the four the bridge added, then "messages" holding the
 * "message" member's value. Nothing is re-serialised, so the desk sees the sender's bytes.
 * Format "record" copies the value untouched: a value that is not JSON still goes out, with
 * index 0. Headers are written into the fixed slots of struct arb_delivery; one that does not
 * fit, or that carries a control character (a CR/LF in a request id taken from a record
 * header would smuggle in a header of its own), fails the build rather than being cut. */
#include "arb/delivery.h"
#include "arb/mem.h"
#include "arb/record.h"

#include "arb/json_index.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The scanner starts this large and grows with the largest value it meets. */
#define SCANNER_START_BYTES 65536

struct arb_delivery_builder {
    const struct arb_desk_conf *desk;
    struct arb_json_scanner *scanner;
    struct arb_signature_ctx *signature;
    char *padded; /* the value being scanned, with the scanner's padding */
    size_t padded_cap;
};

struct arb_delivery_builder *arb_delivery_builder_new(const struct arb_desk_conf *desk)
{
    struct arb_delivery_builder *builder = arb_xcalloc(1, sizeof(*builder));
    builder->desk = desk;
    builder->scanner = arb_json_scanner_new(SCANNER_START_BYTES);
    if (builder->scanner == NULL)
        arb_out_of_memory("a JSON scanner");
    builder->signature = arb_signature_ctx_new(&desk->signature);
    return builder;
}

void arb_delivery_builder_destroy(struct arb_delivery_builder *builder)
{
    if (builder == NULL)
        return;
    arb_json_scanner_destroy(builder->scanner);
    arb_signature_ctx_destroy(builder->signature);
    free(builder->padded);
    free(builder);
}

static bool has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* Append "name: value" to out->headers. name comes from configuration and may appear in the
 * message; value is never echoed. */
static int add_header(struct arb_delivery *out, const char *name, const char *value,
                      struct arb_error *err)
{
    if (out->nheaders == ARB_DELIVERY_HEADERS_MAX)
        return arb_error_set(err, ARB_E_INVALID, "too many desk headers");
    if (has_control(name) || has_control(value))
        return arb_error_set(err, ARB_E_INVALID, "header %.64s: control character in value",
                             name);
    char *line = out->headers[out->nheaders];
    int n = snprintf(line, ARB_DELIVERY_HEADER_MAX, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= ARB_DELIVERY_HEADER_MAX) {
        line[0] = '\0';
        return arb_error_set(err, ARB_E_INVALID, "header %.64s: longer than %d bytes", name,
                             ARB_DELIVERY_HEADER_MAX - 1);
    }
    out->nheaders++;
    return 0;
}

/* The value's top-level members indexed, or NULL when it is not JSON. */
static const struct arb_json_index *scan(struct arb_delivery_builder *builder, const char *value,
                                         size_t len)
{
    struct arb_error ignored;
    if (len + ARB_JSON_PADDING > builder->padded_cap) {
        builder->padded_cap = len + ARB_JSON_PADDING;
        builder->padded = arb_xrealloc(builder->padded, builder->padded_cap);
    }
    memcpy(builder->padded, value, len);
    memset(builder->padded + len, 0, ARB_JSON_PADDING);
    return arb_json_scan(builder->scanner, builder->padded, len, 1, &ignored);
}

static bool is_key(const struct arb_json_node *member, const char *key)
{
    size_t len = strlen(key);
    return member->key_len == len && memcmp(member->key, key, len) == 0;
}

/* The root's message_index when it is a non-negative integer, else 0. */
static int64_t message_index(const struct arb_json_index *index)
{
    if (index == NULL || index->nodes[0].type != ARB_JSON_OBJECT)
        return 0;
    for (const struct arb_json_node *m = arb_json_first(index, &index->nodes[0]); m != NULL;
         m = arb_json_next(index, m))
        if (is_key(m, "message_index"))
            return m->type == ARB_JSON_INTEGER && m->integer > 0 ? m->integer : 0;
    return 0;
}

static bool added_by_the_bridge(const struct arb_json_node *member)
{
    return is_key(member, "message_index") || is_key(member, "message_count") ||
           is_key(member, "received_at");
}

static void put(char **p, const void *bytes, size_t len)
{
    memcpy(*p, bytes, len);
    *p += len;
}

/* The AIRudder event a record came from, from the value's own bytes: its members without
 * the four the bridge added, and "messages": [message] last when it carries a message (which
 * then stands for any "messages" member). ARB_E_JSON when the value is not a JSON object. */
static int build_event_body(const struct arb_json_index *index, const char *value, size_t len,
                            struct arb_delivery *out, struct arb_error *err)
{
    static const char messages_open[] = "\"messages\":[";
    if (index == NULL || index->nodes[0].type != ARB_JSON_OBJECT)
        return arb_error_set(err, ARB_E_JSON, "record value is not a JSON object");
    const struct arb_json_node *root = &index->nodes[0], *message = NULL;
    for (const struct arb_json_node *m = arb_json_first(index, root); m != NULL;
         m = arb_json_next(index, m))
        if (is_key(m, "message"))
            message = m;

    out->body = arb_xmalloc(len + sizeof(messages_open) + 4);
    char *p = out->body;
    bool first = true;
    put(&p, "{", 1);
    for (const struct arb_json_node *m = arb_json_first(index, root); m != NULL;
         m = arb_json_next(index, m)) {
        if (m == message || added_by_the_bridge(m) || (message != NULL && is_key(m, "messages")))
            continue;
        if (!first)
            put(&p, ",", 1);
        put(&p, value + m->key_start, m->end - m->key_start);
        first = false;
    }
    if (message != NULL) {
        if (!first)
            put(&p, ",", 1);
        put(&p, messages_open, sizeof(messages_open) - 1);
        put(&p, value + message->start, message->end - message->start);
        put(&p, "]", 1);
    }
    put(&p, "}", 1);
    *p = '\0';
    out->body_len = (size_t)(p - out->body);
    return 0;
}

static void copy_record_body(const char *value, size_t len, struct arb_delivery *out)
{
    out->body = arb_xmalloc(len + 1);
    if (len > 0)
        memcpy(out->body, value, len);
    out->body[len] = '\0';
    out->body_len = len;
}

/* X-AIRudder-Sign over the body with the first secret, then its key id when configured. */
static int add_signature(const struct arb_signature_conf *conf, struct arb_signature_ctx *ctx,
                         struct arb_delivery *out, struct arb_error *err)
{
    char sig[ARB_DELIVERY_HEADER_MAX + ARB_SIG_TEXT_MAX];
    size_t prefix_len = conf->prefix ? strlen(conf->prefix) : 0;

    if (conf->header == NULL || conf->header[0] == '\0')
        return arb_error_set(err, ARB_E_INVALID, "desk.signature: no header name");
    if (prefix_len >= ARB_DELIVERY_HEADER_MAX)
        return arb_error_set(err, ARB_E_INVALID, "desk.signature: prefix too long");
    if (arb_signature_sign(conf, ctx, out->body, out->body_len, sig, sizeof(sig), err) != 0)
        return -1;
    if (add_header(out, conf->header, sig, err) != 0)
        return -1;

    const char *key_id = conf->secrets[0].id; /* sign succeeded: there is a first secret */
    if (conf->key_header == NULL || conf->key_header[0] == '\0' || key_id == NULL ||
        key_id[0] == '\0')
        return 0;
    return add_header(out, conf->key_header, key_id, err);
}

int arb_delivery_build(struct arb_delivery_builder *builder, const char *value, size_t len,
                       const char *request_id, struct arb_delivery *out,
                       struct arb_error *err)
{
    const struct arb_desk_conf *desk = builder->desk;
    char computed_id[ARB_REQUEST_ID_LEN + 1];
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (value == NULL)
        value = ""; /* a null record value: len is 0 */
    if (request_id == NULL || request_id[0] == '\0') {
        arb_request_id(NULL, value, len, computed_id);
        request_id = computed_id;
    }

    const struct arb_json_index *index = scan(builder, value, len);
    int n = snprintf(out->idempotency_key, sizeof(out->idempotency_key), "%s:%" PRId64,
                     request_id, message_index(index));
    if (n < 0 || (size_t)n >= sizeof(out->idempotency_key)) {
        arb_error_set(err, ARB_E_INVALID, "request id too long for an Idempotency-Key");
        goto out;
    }

    if (desk->format == ARB_DESK_EVENT) {
        if (build_event_body(index, value, len, out, err) != 0)
            goto out;
    } else {
        copy_record_body(value, len, out);
    }

    if (desk->signature.mode == ARB_SIG_ENFORCE &&
        add_signature(&desk->signature, builder->signature, out, err) != 0)
        goto out;
    if (add_header(out, "Idempotency-Key", out->idempotency_key, err) != 0)
        goto out;
    rc = 0;

out:
    if (rc != 0)
        arb_delivery_clear(out);
    return rc;
}

void arb_delivery_clear(struct arb_delivery *delivery)
{
    if (delivery == NULL)
        return;
    free(delivery->body);
    memset(delivery, 0, sizeof(*delivery));
}
