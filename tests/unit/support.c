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

static const char *test_env(void *opaque, const char *name)
{
    (void)opaque;
    return strcmp(name, "ARB_TEST_SECRET") == 0 ? "env-secret" : NULL;
}

static int test_read_file(void *opaque, const char *path, size_t max, struct arb_buf *out,
                          struct arb_error *err)
{
    (void)opaque;
    (void)max;
    (void)out;
    return arb_error_set(err, ARB_E_IO, "cannot read %s: no files in unit tests", path);
}

const struct arb_resolver *test_resolver(void)
{
    static const struct arb_resolver resolver = {test_env, test_read_file, NULL};
    return &resolver;
}

int bridge_conf_parse_text(const char *text, struct arb_bridge_conf **conf,
                           struct arb_conf_errors *errors)
{
    return arb_bridge_conf_parse("test.conf", text, test_resolver(), conf, errors);
}

struct arb_bridge_conf *bridge_conf_of(const char *text)
{
    struct arb_conf_errors errors = {0};
    struct arb_bridge_conf *conf = NULL;
    int rc = bridge_conf_parse_text(text, &conf, &errors);
    for (size_t i = 0; i < errors.count; i++)
        print_error("%s\n", errors.messages[i]);
    arb_conf_errors_clear(&errors);
    assert_int_equal(rc, 0);
    assert_non_null(conf);
    return conf;
}

int bridge_conf_teardown(void **state)
{
    arb_bridge_conf_destroy(*state);
    *state = NULL;
    return 0;
}
