/* support.h - helpers the unit tests share (cmocka asserts inside). */
#ifndef ARB_TEST_SUPPORT_H
#define ARB_TEST_SUPPORT_H

#include <stddef.h>

/* The bytes of tests/fixtures/<name> (malloc'd, caller frees); fails the test if unreadable,
 * empty or 64 KiB and more. */
char *read_fixture(const char *name, size_t *len);

/* len bytes of body followed by the JSON parser's padding (zeroed; caller frees). */
char *padded_copy(const char *body, size_t len);

#endif
