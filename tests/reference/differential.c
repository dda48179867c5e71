/* differential.c - the fast path against the oracle (see differential.h). */
#include "differential.h"
#include "reference.h"

#include "arb/delivery.h"
#include "arb/event.h"
#include "arb/record.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define RECEIVED_AT 1720160400123LL

static json_t *headers_of(const struct arb_record *record)
{
    json_t *headers = json_object();
    for (size_t i = 0; i < record->nheaders; i++)
        json_object_set_new(headers, record->headers[i].name,
                            json_stringn(record->headers[i].value, record->headers[i].len));
    return headers;
}

/* The desk's event rebuilt from a record by splicing, against the oracle's rebuild. */
static int same_rebuild(const struct arb_record *record)
{
    static struct arb_desk_conf desk = {.format = ARB_DESK_EVENT, .signature = {.mode = ARB_SIG_OFF}};
    static struct arb_delivery_builder *builder; /* one for the process, as in the replay */
    struct arb_delivery delivery;
    struct arb_error err;

    if (builder == NULL)
        builder = arb_delivery_builder_new(&desk);
    json_t *want = ref_rebuild_event(record->value, record->value_len);
    int rc = arb_delivery_build(builder, record->value, record->value_len, "r", &delivery, &err);
    json_t *got = rc == 0 ? json_loadb(delivery.body, delivery.body_len, JSON_REJECT_DUPLICATES,
                                       NULL)
                          : NULL;
    int same = want != NULL && got != NULL && json_equal(want, got);
    if (rc == 0)
        arb_delivery_clear(&delivery);
    json_decref(want);
    json_decref(got);
    return same ? 0 : -1;
}

/* The fast path's records against the oracle's. */
static int same_records(const struct arb_recordset *set, const json_t *want, char *why,
                        size_t why_size)
{
    if (set->count != json_array_size(want)) {
        snprintf(why, why_size, "%zu records, the oracle has %zu", set->count,
                 json_array_size(want));
        return -1;
    }
    for (size_t i = 0; i < set->count; i++) {
        const struct arb_record *record = &set->records[i];
        json_t *value = json_loadb(record->value, record->value_len, JSON_REJECT_DUPLICATES, NULL);
        json_t *headers = headers_of(record);
        int same = value != NULL &&
                   json_equal(value, json_object_get(json_array_get(want, i), "value")) &&
                   json_equal(headers, json_object_get(json_array_get(want, i), "headers"));
        json_decref(value);
        json_decref(headers);
        if (same && same_rebuild(record) != 0) {
            snprintf(why, why_size, "record %zu rebuilds for the desk differently", i);
            return -1;
        }
        if (!same) {
            snprintf(why, why_size, "record %zu differs: %.*s", i,
                     (int)(record->value_len < 200 ? record->value_len : 200), record->value);
            return -1;
        }
    }
    return 0;
}

int arb_differential(struct arb_json_scanner *scanner, const char *body, size_t len,
                     enum arb_schema schema, const char *default_event,
                     const struct arb_route *routes, size_t nroutes, char *why, size_t why_size)
{
    char request_id[ARB_REQUEST_ID_LEN + 1], topic[ARB_TOPIC_MAX + 1];
    struct ref_result ref;
    struct arb_event event;
    struct arb_error err = {0};
    int status = 200, rc = -1;

    arb_request_id(NULL, body, len, request_id);
    ref_ingest(body, len, schema, default_event, routes, nroutes, request_id, RECEIVED_AT, &ref);
    if (arb_event_parse(scanner, body, len, schema, default_event, &event, &err) != 0) {
        status = err.code == ARB_E_JSON ? 400 : 422;
    } else {
        const struct arb_route_fields fields = {
            event.name, event.channel ? event.channel->text : NULL,
            event.company ? event.company->text : NULL, event.name_len,
            event.channel ? event.channel->text_len : 0, event.company ? event.company->text_len : 0};
        if (arb_route_topic(routes, nroutes, &fields, topic, &err) != 0)
            status = 422;
    }
    if (status != ref.status) {
        snprintf(why, why_size, "fast path %d (%s), oracle %d (%s)", status, err.message,
                 ref.status, ref.problem);
        goto out;
    }
    if (status == 422 && strcmp(err.message, ref.problem) != 0) {
        snprintf(why, why_size, "422 for \"%s\", the oracle's for \"%s\"", err.message,
                 ref.problem);
        goto out;
    }
    if (status != 200) {
        rc = 0;
        goto out;
    }
    if (strcmp(topic, ref.topic) != 0) {
        snprintf(why, why_size, "topic %s, the oracle's %s", topic, ref.topic);
        goto out;
    }
    struct arb_record_plan plan;
    arb_records_plan(&event, RECEIVED_AT, &plan);
    struct arb_recordset *set = arb_records_build(&event, &plan, topic, request_id, RECEIVED_AT);
    rc = same_records(set, ref.records, why, why_size);
    arb_recordset_destroy(set);
out:
    ref_result_clear(&ref);
    return rc;
}
