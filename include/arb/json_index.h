/* json_index.h - validate a JSON body at machine speed and index its top levels.
 *
 * One pass of simdjson's On-Demand parser (src/core/json_index.cpp, the project's one C++
 * file) checks the whole body as strictly as the bridge always did with Jansson: one JSON
 * value, UTF-8, strings without raw control characters and without \u0000, no lone
 * surrogates, integers that fit in 64 bits, finite reals, at most ARB_JSON_MAX_DEPTH nested
 * arrays and objects, no key twice in one object (compared unescaped). Values down to
 * depth levels below the root are recorded as nodes: their type, where their bytes are in
 * the body (so records are spliced from the sender's own bytes, never re-serialised), the
 * unescaped key of members and the unescaped text of strings, and the value of integers.
 *
 * The index lives in the scanner (one per thread: not thread-safe) and is valid until its
 * next scan. Bodies must be readable ARB_JSON_PADDING bytes past their end. */
#ifndef ARB_JSON_INDEX_H
#define ARB_JSON_INDEX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "arb/error.h"


#define ARB_JSON_PADDING 64
#define ARB_JSON_MAX_DEPTH 2048 /* Jansson's limit, the bridge's until now */
#define ARB_JSON_NONE (-1)

enum arb_json_type {
    ARB_JSON_OBJECT,
    ARB_JSON_ARRAY,
    ARB_JSON_STRING,
    ARB_JSON_INTEGER,
    ARB_JSON_REAL,
    ARB_JSON_TRUE,
    ARB_JSON_FALSE,
    ARB_JSON_NULL,
};

struct arb_json_node {
    int32_t parent, first_child, next_sibling; /* indexes, or ARB_JSON_NONE */
    uint32_t children;       /* members or elements, recorded or not */
    enum arb_json_type type;
    uint32_t start, end;     /* the value's bytes: body[start, end) */
    uint32_t key_start;      /* members: where the quoted key begins */
    const char *key;         /* members: the key, unescaped (NULL for elements) */
    uint32_t key_len;
    const char *text;        /* strings: the value, unescaped */
    uint32_t text_len;
    int64_t integer;         /* integers */
};

struct arb_json_index {
    const struct arb_json_node *nodes; /* nodes[0] is the root */
    size_t count;
};

struct arb_json_scanner;

/* Can this CPU run the parser as it was compiled (ARB_JSON_ISA)? -1 with err when not. */
int arb_json_cpu_check(struct arb_error *err);

/* max_bytes: the largest body it will be given. */
struct arb_json_scanner *arb_json_scanner_new(size_t max_bytes);
void arb_json_scanner_destroy(struct arb_json_scanner *scanner);

/* Validate body and index it to depth levels below the root (1: the root's members only);
 * the index is the scanner's until its next scan. Not JSON: NULL with ARB_E_JSON and a
 * short reason (no position: the caller may ask Jansson for line and column). */
const struct arb_json_index *arb_json_scan(struct arb_json_scanner *scanner, const char *body,
                                           size_t len, int depth, struct arb_error *err);

/* The index of the last scan that got as far as indexing (a body that is JSON), or NULL. */
const struct arb_json_index *arb_json_scanner_last(const struct arb_json_scanner *scanner);

/* Helpers over an index: a member of an object node by key, the first recorded child of a
 * node and the next sibling (NULL at the end). */
const struct arb_json_node *arb_json_member(const struct arb_json_index *index,
                                            const struct arb_json_node *object, const char *key);
const struct arb_json_node *arb_json_first(const struct arb_json_index *index,
                                           const struct arb_json_node *node);
const struct arb_json_node *arb_json_next(const struct arb_json_index *index,
                                          const struct arb_json_node *node);
const char *arb_json_type_name(enum arb_json_type type);

#ifdef __cplusplus
}
#endif

#endif
