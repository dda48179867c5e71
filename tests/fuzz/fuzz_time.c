/* fuzz_time.c - arb_time_parse (--from / --until TIME) on any text.
 *
 * Beyond not crashing: a failure names the problem, and epoch milliseconds (digits only)
 * parse to the number they spell. */
#include "check.h"
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arb/mem.h"
#include "arb/selection.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = arb_xstrndup((const char *)data, size);
    int64_t ms = -1;
    struct arb_error err = {0};
    size_t len = strlen(text);

    if (arb_time_parse(text, &ms, &err) == 0) {
        CHECK(ms >= 0); /* a time before the epoch was accepted */
        if (len > 0 && strspn(text, "0123456789") == len)
            CHECK(ms == strtoll(text, NULL, 10));
    } else {
        CHECK(err.code == ARB_E_INVALID && err.message[0] != '\0');
        CHECK(strlen(err.message) < sizeof(err.message));
    }
    free(text);
    return 0;
}
