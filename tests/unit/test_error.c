/* test_error.c - filling struct arb_error (core/error.c): the code and message set, never
 * retriable by default, the message cut to ARB_ERROR_MSG_MAX - 1 bytes, -1 returned so that
 * callers can return it, a NULL error accepted, and clearing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arb/error.h"

static void test_set(void **state)
{
    (void)state;
    struct arb_error err = {.code = ARB_E_KAFKA, .retriable = true, .message = "old"};
    assert_int_equal(arb_error_set(&err, ARB_E_SCHEMA, "%s[%d]: expected %s", "messages", 2,
                                   "object"),
                     -1);
    assert_int_equal(err.code, ARB_E_SCHEMA);
    assert_false(err.retriable);
    assert_string_equal(err.message, "messages[2]: expected object");
}

static void test_long_message_cut(void **state)
{
    (void)state;
    char long_text[2 * ARB_ERROR_MSG_MAX];
    struct arb_error err;
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_int_equal(arb_error_set(&err, ARB_E_JSON, "line 1: %s", long_text), -1);
    assert_int_equal(strlen(err.message), ARB_ERROR_MSG_MAX - 1);
    assert_memory_equal(err.message, "line 1: xxx", 11);
}

static void test_null_and_clear(void **state)
{
    (void)state;
    struct arb_error err;
    assert_int_equal(arb_error_set(NULL, ARB_E_IO, "cannot read %s", "x"), -1);
    arb_error_set(&err, ARB_E_IO, "cannot read %s", "x");
    err.retriable = true;
    arb_error_clear(&err);
    assert_int_equal(err.code, ARB_E_OK);
    assert_false(err.retriable);
    assert_string_equal(err.message, "");
    arb_error_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_long_message_cut),
        cmocka_unit_test(test_null_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
