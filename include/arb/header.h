/* header.h - a Kafka record header: a name and a value of len bytes (not NUL-terminated
 * necessarily). Records of the core carry them; the Kafka adapter hands them to librdkafka. */
#ifndef ARB_HEADER_H
#define ARB_HEADER_H

#include <stddef.h>

struct arb_header {
    const char *name;
    const char *value;
    size_t len;
};

#endif
