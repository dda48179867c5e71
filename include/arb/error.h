/* error.h - the error value every fallible function of the project fills in.
 *
 * Functions return 0 on success or -1 on failure and, on failure, describe the problem in a
 * caller-owned struct arb_error: a code (what kind of failure, which decides the HTTP status
 * or the exit code), whether retrying may help, and a message for humans. Messages name the
 * problem; they never echo secrets, signatures or whole payloads. */
#ifndef ARB_ERROR_H
#define ARB_ERROR_H

#include <stdbool.h>

enum arb_errcode {
    ARB_E_OK = 0,
    ARB_E_INVALID,   /* bad argument or value (config, command line) */
    ARB_E_SIGNATURE, /* missing, malformed or wrong signature */
    ARB_E_AUTH,      /* missing or wrong token or credentials */
    ARB_E_JSON,      /* body is not JSON */
    ARB_E_SCHEMA,    /* JSON, but not a valid event */
    ARB_E_ROUTE,     /* no route for the event */
    ARB_E_IO,        /* file or socket error */
    ARB_E_KAFKA,     /* librdkafka said no */
    ARB_E_HTTP,      /* HTTP client error */
    ARB_E_TOO_LARGE, /* over a size limit: a retry cannot help */
};

#define ARB_ERROR_MSG_MAX 256

struct arb_error {
    enum arb_errcode code;
    bool retriable;
    char message[ARB_ERROR_MSG_MAX];
};

/* Fill err (if not NULL) and return -1, so callers can write `return arb_error_set(...)`. */
int arb_error_set(struct arb_error *err, enum arb_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void arb_error_clear(struct arb_error *err);

#endif
