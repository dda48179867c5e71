/* reference.h - the oracle of the bridge's fast path: what the bridge did before it was fast,
 * with Jansson. It builds a tree of the body (rejecting duplicate keys, as Jansson checks
 * UTF-8), checks the schema on the tree, routes on it, and serialises each record's value
 * anew. The differential test and fuzz target require the fast path (core/json_index.cpp,
 * event.c, record.c) to agree with it: the same verdict, the same error path, records that
 * are JSON-equal with the same headers. Test code only: no product code calls it. */
#ifndef ARB_REFERENCE_H
#define ARB_REFERENCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/config.h"
#include "arb/error.h"
#include "arb/route.h"

struct ref_result {
    int status;          /* 200, 400 (not JSON) or 422 (schema or route) */
    char problem[ARB_ERROR_MSG_MAX + 64]; /* the reason of a 422, as the bridge words it */
    char topic[256];
    json_t *records;     /* 200: an array of { "value": {...}, "headers": {...} } */
};

int ref_ingest(const char *body, size_t len, enum arb_schema schema, const char *default_event,
               const struct arb_route *routes, size_t nroutes, const char *request_id,
               int64_t received_at_ms, struct ref_result *out);
void ref_result_clear(struct ref_result *result);

/* What the replay sent the desk for a record before it spliced (delivery.c, format
 * "event"): the value parsed, the four added members removed, "messages": [message] set.
 * NULL when the value is not a JSON object. */
json_t *ref_rebuild_event(const char *value, size_t len);

#endif
