/* fuzz_offsets.c - arb_offsets_parse (--offsets T:P:O[,T:P:O...]) on any text.
 *
 * Beyond not crashing or leaking: on success every item became one spec with a non-empty
 * topic, a partition and an offset that are not negative, no topic:partition twice; on
 * failure nothing is appended and the problem is named. Parsing twice into the same list
 * (as several --offsets do) refuses the repeated items. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arb/mem.h"
#include "arb/selection.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void specs_free(struct arb_offset_spec *specs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(specs[i].topic);
    free(specs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = arb_xstrndup((const char *)data, size);
    struct arb_offset_spec *specs = NULL;
    size_t count = 0;
    struct arb_error err = {0};

    if (arb_offsets_parse(text, &specs, &count, &err) == 0) {
        size_t items = 1;
        for (const char *p = text; *p; p++)
            items += *p == ',';
        CHECK(count == items);
        for (size_t i = 0; i < count; i++) {
            CHECK(specs[i].topic != NULL && specs[i].topic[0] != '\0');
            CHECK(specs[i].partition >= 0 && specs[i].offset >= 0);
            for (size_t j = 0; j < i; j++)
                CHECK(specs[i].partition != specs[j].partition ||
                       strcmp(specs[i].topic, specs[j].topic) != 0);
        }
        size_t before = count;
        CHECK(arb_offsets_parse(text, &specs, &count, &err) != 0 && count == before);
    } else {
        CHECK(count == 0 && err.code == ARB_E_INVALID && err.message[0] != '\0');
    }
    specs_free(specs, count);
    free(text);
    return 0;
}
