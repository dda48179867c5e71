/* delivery.c - a record's body and headers for the desk (see delivery.h).
 *
 * The value is parsed once to read message_index, and with format "event" a second time to
 * rebuild the event.
 * Format "record" copies the value untouched: a value that is not JSON still goes out, with
 * index 0. Headers are written into the fixed slots of struct arb_delivery; one that does not
 * fit, or that carries a control character (a CR/LF in a request id taken from a record
 * header would smuggle in a header of its own), fails the build rather than being cut. */
#include "arb/delivery.h"
#include "arb/mem.h"
#include "arb/record.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

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

/* The value's message_index when it is a non-negative JSON integer, else 0. */
static json_int_t message_index(const char *value, size_t len)
{
    json_t *record = json_loadb(value, len, 0, NULL);
    json_t *index = json_object_get(record, "message_index"); /* NULL unless an object */
    json_int_t result = json_is_integer(index) ? json_integer_value(index) : 0;
    json_decref(record);
    return result > 0 ? result : 0;
}

/* The AIRudder event a record came from: its value without the four added fields, with
 * "messages": [message] when it carries a message. NULL with err (ARB_E_JSON) when the value
 * is not a JSON object. */
static json_t *rebuild_event(const char *value, size_t len, struct arb_error *err)
{
    json_error_t jerr;
    json_t *record = json_loadb(value, len, 0, &jerr);
    if (record == NULL || !json_is_object(record)) {
        json_decref(record);
        arb_error_set(err, ARB_E_JSON, "record value is not a JSON object");
        return NULL;
    }
    json_t *message = json_incref(json_object_get(record, "message"));
    json_object_del(record, "message");
    json_object_del(record, "message_index");
    json_object_del(record, "message_count");
    json_object_del(record, "received_at");
    if (message != NULL)
        json_object_set_new(record, "messages", json_pack("[o]", message));
    return record;
}

static int build_event_body(const char *value, size_t len, struct arb_delivery *out,
                            struct arb_error *err)
{
    json_t *event = rebuild_event(value, len, err); /* ARB_E_JSON: not an object */
    if (event == NULL)
        return -1;
    out->body = json_dumps(event, DUMP_FLAGS);
    json_decref(event);
    if (out->body == NULL)
        return arb_error_set(err, ARB_E_JSON, "cannot serialise the rebuilt event");
    out->body_len = strlen(out->body);
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
static int add_signature(const struct arb_signature_conf *conf, struct arb_delivery *out,
                         struct arb_error *err)
{
    char sig[ARB_DELIVERY_HEADER_MAX + ARB_SIG_TEXT_MAX];
    size_t prefix_len = conf->prefix ? strlen(conf->prefix) : 0;

    if (conf->header == NULL || conf->header[0] == '\0')
        return arb_error_set(err, ARB_E_INVALID, "desk.signature: no header name");
    if (prefix_len >= ARB_DELIVERY_HEADER_MAX)
        return arb_error_set(err, ARB_E_INVALID, "desk.signature: prefix too long");
    if (arb_signature_sign(conf, NULL, out->body, out->body_len, sig, sizeof(sig), err) != 0)
        return -1;
    if (add_header(out, conf->header, sig, err) != 0)
        return -1;

    const char *key_id = conf->secrets[0].id; /* sign succeeded: there is a first secret */
    if (conf->key_header == NULL || conf->key_header[0] == '\0' || key_id == NULL ||
        key_id[0] == '\0')
        return 0;
    return add_header(out, conf->key_header, key_id, err);
}

int arb_delivery_build(const struct arb_desk_conf *desk, const char *value, size_t len,
                       const char *request_id, struct arb_delivery *out,
                       struct arb_error *err)
{
    char computed_id[ARB_REQUEST_ID_LEN + 1];
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (value == NULL)
        value = ""; /* a null record value: len is 0 */
    if (request_id == NULL || request_id[0] == '\0') {
        arb_request_id(NULL, value, len, computed_id);
        request_id = computed_id;
    }

    int n = snprintf(out->idempotency_key, sizeof(out->idempotency_key),
                     "%s:%" JSON_INTEGER_FORMAT, request_id, message_index(value, len));
    if (n < 0 || (size_t)n >= sizeof(out->idempotency_key)) {
        arb_error_set(err, ARB_E_INVALID, "request id too long for an Idempotency-Key");
        goto out;
    }

    if (desk->format == ARB_DESK_EVENT) {
        if (build_event_body(value, len, out, err) != 0)
            goto out;
    } else {
        copy_record_body(value, len, out);
    }

    if (desk->signature.mode == ARB_SIG_ENFORCE && add_signature(&desk->signature, out, err) != 0)
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
