/* differential.h - the fast path and the Jansson oracle (reference.h) on the same bytes: the
 * same verdict (200, 400, 422), the same reason for a 422, and for a 200 the same records:
 * values JSON-equal, headers equal, in order; and each record rebuilt for the desk by the
 * replay's splice JSON-equal to the Jansson rebuild. Shared by the unit test and the fuzz
 * target. */
#ifndef ARB_DIFFERENTIAL_H
#define ARB_DIFFERENTIAL_H

#include <stddef.h>

#include "arb/config.h"
#include "arb/json_index.h"
#include "arb/route.h"

/* body must be padded (ARB_JSON_PADDING). 0 when both agree; else -1 with why filled. */
int arb_differential(struct arb_json_scanner *scanner, const char *body, size_t len,
                     enum arb_schema schema, const char *default_event,
                     const struct arb_route *routes, size_t nroutes, char *why, size_t why_size);

#endif
