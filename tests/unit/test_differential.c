/* test_differential.c - the fast path against the Jansson oracle (tests/reference): the
 * fixtures under each schema, bodies chosen for the corners where two parsers tend to differ
 * (escapes, numbers, duplicates, whitespace, nesting, the schemas' own rules), and a few
 * thousand deterministic mutations of each fixture. Any disagreement fails, naming the body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/json_index.h"
#include "arb/mem.h"
#include "differential.h"
#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MUTATIONS 600

static struct arb_json_scanner *scanner;
static char route_event[] = "*", route_topic[] = "t.{event}.{channel}.{company}";
static const struct arb_route routes[] = {{route_event, route_topic}};
static const enum arb_schema schemas[] = {ARB_SCHEMA_CHANNEL_MESSAGE_SENT,
                                          ARB_SCHEMA_WORKFLOW_SESSION_END, ARB_SCHEMA_GENERIC};

static void agree(const char *body, size_t len, const char *what)
{
    char *copy = padded_copy(body, len);
    char why[512];
    for (size_t s = 0; s < COUNT(schemas); s++)
        if (arb_differential(scanner, copy, len, schemas[s], s == 0 ? "" : "wf", routes, 1, why,
                             sizeof(why)) != 0)
            fail_msg("%s (schema %zu): %s\nbody: %.*s", what, s, why, (int)(len < 300 ? len : 300),
                     body);
    free(copy);
}

static const char *const corners[] = {
    "{\"event\":\"e\",\"call_id\":\"c\"}",
    " {\"event\" : \"e\" ,\n\t\"call_id\":\"c\" , \"messages\" : [ ] } ",
    "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[{\"content\":{\"type\":\"t\"},\"msg_id\":\"\\u006d\"}]}",
    "{\"event\":\"\\u0065\",\"call_id\":\"\\ud83d\\ude00\",\"channel\":\"a/b c\",\"company\":\"\\u4e2d\"}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":[1,-0,1.5e10,1E-400,-9223372036854775808,9223372036854775807]}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":9223372036854775808}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":1e400}",
    /* exponents simdjson refuses and Jansson reads (found by fuzz_differential) */
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":0e2222222222222222222222}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":1e0000000000000000000000001}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":-1.5e-4000000000000000000000}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":1e4000000000000000000000}",
    /* reals of more than 19 digits simdjson reads though they overflow (fuzz_differential) */
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":0.99999999999999999999E309}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":0.99999999999999999999E307}",
    "0.9999999999999999999999999999999999999999999990000000000013875954555631529339999999999999999999999E349\r",
    /* a root integer past int64 that simdjson reads, a digit short (fuzz_differential) */
    "-33935253125139352531", "-9223372036854775808", "-9223372036854775809",
    "{\"event\":\"e\",\"call_id\":\"c\",\"x\":-33935253125139352531}",
    "0e2222222222222222222222", "0e22222222222222222222222x", "0e2222222222222222222222 2",
    "1 2", "\"s\" \"t\"", "null null",
    "{\"event\":\"e\",\"call_id\":\"c\",\"e\\u0076ent\":\"f\"}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[{\"content\":{},\"a\":1,\"\\u0061\":2}]}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"s\":\"\\u0000\"}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"s\":\"\\udc00\"}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"s\":\"\x01\"}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"s\":\"\xc3\x28\"}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[{\"content\":{}},7]}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":{\"content\":{}}}",
    "{\"event\":\"e\",\"call_id\":\"c\",\"message\":1}",
    "{\"call_id\":\"c\",\"messages\":[{\"content\":{},\"reply\":{\"timestamp\":\"x\"}}]}",
    "{\"call_id\":\"c\",\"robot_id\":4755}",
    "{\"call_id\":\"\",\"event\":\"e\"}",
    "{\"event\":\".\",\"call_id\":\"c\"}",
    "[]", "\"s\"", "1", "null", "false2", "nullx", "true ", "{\"a\":truex}", "{}", "", " ",
    "{\"a\":1}x", "{\"a\":1,}", "9                      ", "false   ", "null\r\n\r\n\t ",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
};

static void test_corners(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(corners); i++)
        agree(corners[i], strlen(corners[i]), "corner");
}

/* A NUL byte outside a string: not JSON, though Jansson 2.14 skips one right after a number
 * and simdjson one after a last atom (both found by fuzz_differential). */
static void test_nul_bytes(void **state)
{
    static const char after_number[] = "{\"event\":\"e\",\"call_id\":\"c\",\"n\":1\0,\"m\":2}";
    static const char between[] = "{\"event\":\"e\",\"call_id\":\"c\",\0\"m\":2}";
    static const char in_string[] = "{\"event\":\"e\",\"call_id\":\"c\",\"s\":\"a\0b\"}";
    static const char after_atom[] = "false\0";
    (void)state;
    agree(after_number, sizeof(after_number) - 1, "NUL after a number");
    agree(between, sizeof(between) - 1, "NUL between members");
    agree(in_string, sizeof(in_string) - 1, "NUL in a string");
    agree(after_atom, sizeof(after_atom) - 1, "NUL after the last atom");
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* One mutation of body into out: a byte changed, dropped or doubled, or a structural
 * character put somewhere. */
static size_t mutate(const char *body, size_t len, char *out, uint64_t *rng)
{
    static const char structural[] = "{}[],:\"\\ 0e-.";
    size_t at = (size_t)(next(rng) % len), n = len;
    memcpy(out, body, len);
    switch (next(rng) % 4) {
    case 0: out[at] = (char)(next(rng) & 0xff); break;
    case 1: memmove(out + at, out + at + 1, len - at - 1); n--; break;
    case 2: memmove(out + at + 1, out + at, len - at); n++; break;
    default: out[at] = structural[next(rng) % (sizeof(structural) - 1)]; break;
    }
    return n;
}

static void test_mutations(void **state)
{
    static const char *const fixtures[] = {"channel.message.sent.json", "message.send.json",
                                           "workflow.session.end.json"};
    (void)state;
    for (size_t f = 0; f < COUNT(fixtures); f++) {
        size_t len;
        char *body = read_fixture(fixtures[f], &len);
        char *mutant = arb_xmalloc(len + 2);
        uint64_t rng = 0x9E3779B97F4A7C15ULL + f;
        agree(body, len, fixtures[f]);
        for (int i = 0; i < MUTATIONS; i++) {
            size_t n = mutate(body, len, mutant, &rng);
            agree(mutant, n, fixtures[f]);
        }
        free(mutant);
        free(body);
    }
}

static int setup(void **state)
{
    (void)state;
    scanner = arb_json_scanner_new(1 << 20);
    return scanner != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    arb_json_scanner_destroy(scanner);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corners),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
