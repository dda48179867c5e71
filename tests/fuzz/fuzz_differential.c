/* fuzz_differential.c - the fast path (json_index.cpp, event.c, record.c) against the
 * Jansson oracle (tests/reference) on any body: the first byte picks the schema, the rest is
 * the body. Any disagreement (verdict, reason of a 422, records) aborts. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arb/json_index.h"
#include "differential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arb_json_scanner *scanner;
    static char event[] = "*", topic[] = "t.{event}.{channel}.{company}";
    static const struct arb_route routes[] = {{event, topic}};
    char why[512];

    if (size < 1)
        return 0;
    if (scanner == NULL)
        scanner = arb_json_scanner_new(1 << 20);
    size_t len = size - 1;
    char *body = calloc(1, len + ARB_JSON_PADDING);
    CHECK(body != NULL);
    memcpy(body, data + 1, len);
    enum arb_schema schema = (enum arb_schema)(data[0] % 3);
    if (arb_differential(scanner, body, len, schema, schema == 0 ? "" : "wf", routes, 1, why,
                         sizeof(why)) != 0) {
        fprintf(stderr, "disagreement: %s\n", why);
        abort();
    }
    free(body);
    return 0;
}
