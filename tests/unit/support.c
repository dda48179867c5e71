/* support.c - helpers the unit tests share (see support.h). */
#include "support.h"

#include "arb/mem.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arb/json_index.h"

#include <cmocka.h>

char *read_fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", ARB_FIXTURES_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *data = arb_xmalloc(1 << 16);
    *len = fread(data, 1, 1 << 16, f);
    assert_true(*len > 0 && *len < (1 << 16));
    fclose(f);
    return data;
}

char *padded_copy(const char *body, size_t len)
{
    char *copy = arb_xcalloc(1, len + ARB_JSON_PADDING);
    memcpy(copy, body, len);
    return copy;
}
