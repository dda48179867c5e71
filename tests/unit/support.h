/* support.h - helpers the unit tests share (cmocka asserts inside). */
#ifndef ARB_TEST_SUPPORT_H
#define ARB_TEST_SUPPORT_H

#include <stddef.h>

#include "arb/config.h"

/* The bytes of tests/fixtures/<name> (malloc'd, caller frees); fails the test if unreadable,
 * empty or 64 KiB and more. */
char *read_fixture(const char *name, size_t *len);

/* len bytes of body followed by the JSON parser's padding (zeroed; caller frees). */
char *padded_copy(const char *body, size_t len);

/* The resolver test configurations are parsed with: ${ARB_TEST_SECRET} is "env-secret",
 * every other variable is unset, and no file can be read. */
const struct arb_resolver *test_resolver(void);

/* The bridge configuration of text, named "test.conf" in messages: 0 with *conf, or -1 with
 * every problem in errors (which the caller clears). */
int bridge_conf_parse_text(const char *text, struct arb_bridge_conf **conf,
                           struct arb_conf_errors *errors);

/* The same, for text that must parse: fails the test, printing every problem, if not. */
struct arb_bridge_conf *bridge_conf_of(const char *text);

/* A cmocka group teardown for a group whose *state is a bridge configuration. */
int bridge_conf_teardown(void **state);

#endif
