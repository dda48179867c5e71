/* json_index.cpp - JSON validation and a shallow index with simdjson On-Demand (see
 * json_index.h). The project's only C++: everything else stays C11 and sees the C header.
 *
 * On-Demand checks UTF-8 and the structure of the whole input up front, then parses what it
 * is asked for. To be fully validating we ask for every value: every string is unescaped,
 * every number converted, every atom read, recursively; what simdjson tolerates and Jansson
 * did not (raw control characters in strings, \u0000, integers past int64, lone surrogates,
 * a key twice) is checked here. No exceptions: every step returns an error code. */
#include "arb/json_index.h"

#include <jansson.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

using namespace simdjson;

struct arb_json_scanner {
    ondemand::parser parser;
    arb_json_index index; /* of the last scan */
    std::vector<arb_json_node> nodes;
    std::vector<std::string_view> keys; /* of the objects being walked, innermost last */
};

namespace {

/* Keys of small objects are compared pairwise; larger ones sorted, so a body of many keys
 * costs n log n, not n squared. */
constexpr size_t PAIRWISE_KEYS = 16;
/* An index this large is not kept between scans. */
constexpr size_t KEEP_NODES = 16384;

struct walk {
    arb_json_scanner *scanner;
    ondemand::document *doc;
    const char *base;
    size_t len;
    int record_depth;
    const char *reason;
};

bool fail(walk &w, const char *reason)
{
    if (w.reason == nullptr)
        w.reason = reason;
    return false;
}

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Offset of the end of a value whose bytes end before p, trailing whitespace excluded. */
uint32_t end_before(const walk &w, const char *p)
{
    while (p > w.base && is_space(p[-1]))
        p--;
    return static_cast<uint32_t>(p - w.base);
}

/* The content of a quoted string starting after its opening quote: its end (the closing
 * quote), and whether it holds a raw control character or an escape. simdjson found the
 * closing quote already, so the loop ends inside the buffer. */
const char *scan_raw_string(const char *p, bool *control, bool *escaped)
{
    for (;;) {
        unsigned char c = static_cast<unsigned char>(*p);
        if (c == '"')
            return p;
        if (c == '\\') {
            *escaped = true;
            p += 2;
            continue;
        }
        if (c < 0x20)
            *control = true;
        p++;
    }
}

/* Checks on an unescaped string that simdjson lets through. */
bool check_text(walk &w, std::string_view text, bool escaped)
{
    if (!escaped)
        return true; /* the raw bytes were valid UTF-8 without NUL: so is the text */
    if (std::memchr(text.data(), '\0', text.size()) != nullptr)
        return fail(w, "\\u0000 is not allowed");
    if (!simdjson::validate_utf8(text.data(), text.size()))
        return fail(w, "invalid Unicode escape (lone surrogate)");
    return true;
}

int32_t add_node(walk &w, int32_t parent, arb_json_type type, uint32_t start)
{
    arb_json_node node{};
    node.parent = parent;
    node.first_child = node.next_sibling = ARB_JSON_NONE;
    node.type = type;
    node.start = start;
    node.end = start;
    w.scanner->nodes.push_back(node);
    return static_cast<int32_t>(w.scanner->nodes.size() - 1);
}

bool duplicate_keys(std::vector<std::string_view> &keys, size_t from)
{
    size_t n = keys.size() - from;
    if (n <= PAIRWISE_KEYS) {
        for (size_t i = from; i < keys.size(); i++)
            for (size_t j = i + 1; j < keys.size(); j++)
                if (keys[i] == keys[j])
                    return true;
        return false;
    }
    std::sort(keys.begin() + static_cast<std::ptrdiff_t>(from), keys.end());
    return std::adjacent_find(keys.begin() + static_cast<std::ptrdiff_t>(from), keys.end()) !=
           keys.end();
}

bool walk_value(walk &w, ondemand::value value, arb_json_type type, int depth, int32_t node);

/* Link child as the last of parent's recorded children. */
void link_child(walk &w, int32_t parent, int32_t child, int32_t *last)
{
    auto &nodes = w.scanner->nodes;
    if (*last == ARB_JSON_NONE)
        nodes[static_cast<size_t>(parent)].first_child = child;
    else
        nodes[static_cast<size_t>(*last)].next_sibling = child;
    *last = child;
}

arb_json_type type_of(ondemand::json_type type, std::string_view token)
{
    switch (type) {
    case ondemand::json_type::object: return ARB_JSON_OBJECT;
    case ondemand::json_type::array: return ARB_JSON_ARRAY;
    case ondemand::json_type::string: return ARB_JSON_STRING;
    case ondemand::json_type::number:
        return token.find_first_of(".eE") == std::string_view::npos ? ARB_JSON_INTEGER
                                                                     : ARB_JSON_REAL;
    case ondemand::json_type::boolean: return token[0] == 't' ? ARB_JSON_TRUE : ARB_JSON_FALSE;
    case ondemand::json_type::null: break;
    }
    return ARB_JSON_NULL;
}

/* The raw token of a value (a view), or of the document (a result). */
bool token_of(ondemand::value &value, std::string_view *token)
{
    *token = value.raw_json_token();
    return true;
}

bool token_of(ondemand::document &doc, std::string_view *token)
{
    return !doc.raw_json_token().get(*token);
}

/* A value's first token and its type. */
template <typename V> bool peek(walk &w, V &value, std::string_view *token, arb_json_type *type)
{
    ondemand::json_type jtype;
    if (!token_of(value, token) || value.type().get(jtype))
        return fail(w, "invalid JSON");
    *type = type_of(jtype, *token);
    return true;
}

/* A value at depth: recorded under parent when depth allows; *child gets its node. */
bool member_value(walk &w, ondemand::value value, int depth, int32_t parent, int32_t *child)
{
    std::string_view token;
    arb_json_type type;
    *child = ARB_JSON_NONE;
    if (!peek(w, value, &token, &type))
        return false;
    if (parent != ARB_JSON_NONE && depth <= w.record_depth)
        *child = add_node(w, parent, type, static_cast<uint32_t>(token.data() - w.base));
    return walk_value(w, value, type, depth, *child);
}

bool walk_object(walk &w, ondemand::object object, int depth, int32_t node)
{
    auto &keys = w.scanner->keys;
    size_t mark = keys.size();
    int32_t last = ARB_JSON_NONE;
    uint32_t count = 0;

    for (auto field_result : object) {
        ondemand::field field;
        std::string_view key;
        if (std::move(field_result).get(field))
            return fail(w, "invalid JSON");
        const char *raw = field.key().raw(); /* before unescaping, which consumes the key */
        if (field.unescaped_key().get(key))
            return fail(w, "invalid JSON");
        bool control = false, escaped = false;
        scan_raw_string(raw, &control, &escaped);
        if (control)
            return fail(w, "control character in a string");
        if (!check_text(w, key, escaped))
            return false;
        keys.push_back(key);
        int32_t child;
        if (!member_value(w, field.value(), depth + 1, node, &child))
            return false;
        if (child != ARB_JSON_NONE) {
            auto &n = w.scanner->nodes[static_cast<size_t>(child)];
            n.key = key.data();
            n.key_len = static_cast<uint32_t>(key.size());
            n.key_start = static_cast<uint32_t>(raw - 1 - w.base);
            link_child(w, node, child, &last);
        }
        count++;
    }
    if (duplicate_keys(keys, mark))
        return fail(w, "duplicate object key");
    keys.resize(mark);
    if (node != ARB_JSON_NONE)
        w.scanner->nodes[static_cast<size_t>(node)].children = count;
    return true;
}

bool walk_array(walk &w, ondemand::array array, int depth, int32_t node)
{
    int32_t last = ARB_JSON_NONE;
    uint32_t count = 0;

    for (auto element : array) {
        ondemand::value value;
        if (std::move(element).get(value))
            return fail(w, "invalid JSON");
        int32_t child;
        if (!member_value(w, value, depth + 1, node, &child))
            return false;
        if (child != ARB_JSON_NONE)
            link_child(w, node, child, &last);
        count++;
    }
    if (node != ARB_JSON_NONE)
        w.scanner->nodes[static_cast<size_t>(node)].children = count;
    return true;
}

/* Past 19 digits simdjson 3.0.1 errs every way: it refuses 0e0000000000000000000001 (its
 * exponent has too many digits; the value is 0), reads 0.99999999999999999999e309 as 7.8e307
 * (it overflows) and, at the root, -33935253125139352531 as -3393525312513935253 (it is past
 * int64). Jansson, the reference, is right on all three; so a number simdjson refuses, or
 * one too long to be within 19 digits, is valid when Jansson reads it as one of its type. */
constexpr size_t SHORT_NUMBER = 19;

bool jansson_reads(std::string_view token, arb_json_type type)
{
    json_error_t error;
    json_t *value = json_loadb(token.data(), token.size(), JSON_DECODE_ANY, &error);
    bool read = type == ARB_JSON_INTEGER ? json_is_integer(value) : json_is_real(value);
    json_decref(value);
    return read;
}

/* A number's token, checked as above. */
bool number_checked(std::string_view number, arb_json_type type, bool simdjson_read)
{
    return (simdjson_read && number.size() <= SHORT_NUMBER) || jansson_reads(number, type);
}

/* Strings, numbers and atoms: converted, so simdjson checks them. */
template <typename V> bool walk_scalar(walk &w, V &value, arb_json_type type, int32_t node)
{
    std::string_view token;
    if (!token_of(value, &token))
        return fail(w, "invalid JSON");
    arb_json_node scratch{};
    arb_json_node &n = node != ARB_JSON_NONE ? w.scanner->nodes[static_cast<size_t>(node)]
                                             : scratch;
    n.end = end_before(w, token.data() + token.size());
    /* The token without the whitespace after it. A literal's must be the literal: simdjson
     * takes the document "false2" for false at its root. */
    std::string_view bare = token.substr(0, n.end - (token.data() - w.base));
    switch (type) {
    case ARB_JSON_STRING: {
        std::string_view text;
        bool control = false, escaped = false;
        if (value.get_string().get(text))
            return fail(w, "invalid string");
        scan_raw_string(token.data() + 1, &control, &escaped);
        if (control)
            return fail(w, "control character in a string");
        if (!check_text(w, text, escaped))
            return false;
        n.text = text.data();
        n.text_len = static_cast<uint32_t>(text.size());
        return true;
    }
    case ARB_JSON_INTEGER: {
        int64_t integer = 0;
        simdjson::error_code error = value.get_int64().get(integer);
        if (!number_checked(bare, type, !error))
            return fail(w, error == simdjson::NUMBER_OUT_OF_RANGE ? "too big integer"
                                                                  : "invalid number");
        n.integer = integer;
        return true;
    }
    case ARB_JSON_REAL: {
        double real;
        if (!number_checked(bare, type, !value.get_double().get(real)))
            return fail(w, "invalid real number");
        return true;
    }
    case ARB_JSON_TRUE:
    case ARB_JSON_FALSE: {
        bool b;
        if (value.get_bool().get(b) || bare != (b ? "true" : "false"))
            return fail(w, "invalid literal");
        return true;
    }
    default: {
        bool null;
        if (value.is_null().get(null) || !null || bare != "null")
            return fail(w, "invalid literal");
        return true;
    }
    }
}

/* The end of a container just walked: before the token the parser now stands at. */
void close_container(walk &w, int32_t node)
{
    const char *at = nullptr;
    if (node == ARB_JSON_NONE)
        return;
    if (w.doc->current_location().get(at))
        at = w.base + w.len;
    w.scanner->nodes[static_cast<size_t>(node)].end = end_before(w, at);
}

bool walk_value(walk &w, ondemand::value value, arb_json_type type, int depth, int32_t node)
{
    if (type == ARB_JSON_OBJECT || type == ARB_JSON_ARRAY) {
        if (depth >= ARB_JSON_MAX_DEPTH)
            return fail(w, "maximum parsing depth reached");
        bool ok;
        if (type == ARB_JSON_OBJECT) {
            ondemand::object object;
            ok = !value.get_object().get(object) && walk_object(w, object, depth, node);
        } else {
            ondemand::array array;
            ok = !value.get_array().get(array) && walk_array(w, array, depth, node);
        }
        if (!ok)
            return fail(w, "invalid JSON");
        close_container(w, node);
        return true;
    }
    return walk_scalar(w, value, type, node);
}

/* The root: a container is walked as a value; a scalar is read from the document. */
bool walk_root(walk &w)
{
    ondemand::document &doc = *w.doc;
    std::string_view token;
    arb_json_type type;
    if (!peek(w, doc, &token, &type))
        return false;
    int32_t root = add_node(w, ARB_JSON_NONE, type, static_cast<uint32_t>(token.data() - w.base));
    bool ok;
    if (type == ARB_JSON_OBJECT || type == ARB_JSON_ARRAY) {
        ondemand::value value;
        ok = !doc.get_value().get(value) && walk_value(w, value, type, 0, root);
    } else {
        ok = walk_scalar(w, doc, type, root);
    }
    if (!ok)
        return false;
    uint32_t end = end_before(w, w.base + w.len);
    if (type == ARB_JSON_OBJECT || type == ARB_JSON_ARRAY) {
        const char *trailing;
        if (!doc.current_location().get(trailing)) /* a location: something follows */
            return fail(w, "end of file expected");
    } else if (w.scanner->nodes[0].end != end) { /* a scalar's token runs to the next one */
        return fail(w, "end of file expected");
    }
    w.scanner->nodes[0].end = end;
    return true;
}

} // namespace

extern "C" {

int arb_json_cpu_check(struct arb_error *err)
{
#if defined(ARB_JSON_ISA_haswell)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi") ||
        !__builtin_cpu_supports("bmi2") || !__builtin_cpu_supports("pclmul"))
        return arb_error_set(err, ARB_E_INVALID,
                             "this build parses JSON with AVX2 (ARB_JSON_ISA=haswell), which "
                             "this CPU lacks: build with -DARB_JSON_ISA=generic");
#endif
    (void)err;
    return 0;
}

struct arb_json_scanner *arb_json_scanner_new(size_t max_bytes)
{
    auto *scanner = new (std::nothrow) arb_json_scanner();
    if (scanner == nullptr)
        return nullptr;
    /* Stage 1 runs in libsimdjson's implementation for this CPU, the rest in the one this
     * file was compiled for: they must be the same. */
    const simdjson::implementation *builtin =
        simdjson::get_available_implementations()[SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION)];
    if (builtin != nullptr)
        simdjson::get_active_implementation() = builtin;
    /* Pages of the buffers are touched only as large bodies use them. */
    if (scanner->parser.allocate(max_bytes, ARB_JSON_MAX_DEPTH + 2) != SUCCESS) {
        delete scanner;
        return nullptr;
    }
    return scanner;
}

void arb_json_scanner_destroy(struct arb_json_scanner *scanner)
{
    delete scanner;
}

const struct arb_json_index *arb_json_scan(struct arb_json_scanner *scanner, const char *body,
                                           size_t len, int depth, struct arb_error *err)
{
    ondemand::document doc;
    /* Without its trailing whitespace: simdjson refuses a root scalar followed by more than
     * a few bytes of it ("9" and 22 spaces, "false" and 3). */
    size_t end = len;
    while (end > 0 && is_space(body[end - 1]))
        end--;
    walk w{scanner, &doc, body, end, depth, nullptr};

    if (scanner->nodes.capacity() > KEEP_NODES)
        std::vector<arb_json_node>().swap(scanner->nodes);
    scanner->nodes.clear();
    scanner->keys.clear();
    scanner->index = arb_json_index{nullptr, 0};
    if (len > UINT32_MAX - ARB_JSON_PADDING) {
        arb_error_set(err, ARB_E_JSON, "body too large to index");
        return nullptr;
    }
    /* JSON allows a NUL byte nowhere; simdjson's On-Demand takes one after a last atom
     * ("false\0") for the end of the document. */
    if (std::memchr(body, '\0', len) != nullptr) {
        arb_error_set(err, ARB_E_JSON, "NUL byte");
        return nullptr;
    }
    error_code code = scanner->parser.iterate(body, end, len + ARB_JSON_PADDING).get(doc);
    if (code != SUCCESS) {
        arb_error_set(err, ARB_E_JSON, "%s", code == EMPTY ? "empty body" : error_message(code));
        return nullptr;
    }
    if (!walk_root(w)) {
        arb_error_set(err, ARB_E_JSON, "%s", w.reason != nullptr ? w.reason : "invalid JSON");
        return nullptr;
    }
    scanner->index = arb_json_index{scanner->nodes.data(), scanner->nodes.size()};
    return &scanner->index;
}

const struct arb_json_index *arb_json_scanner_last(const struct arb_json_scanner *scanner)
{
    return scanner->index.count > 0 ? &scanner->index : nullptr;
}

const struct arb_json_node *arb_json_first(const struct arb_json_index *index,
                                           const struct arb_json_node *node)
{
    return node == nullptr || node->first_child == ARB_JSON_NONE ? nullptr
                                                                 : &index->nodes[node->first_child];
}

const struct arb_json_node *arb_json_next(const struct arb_json_index *index,
                                          const struct arb_json_node *node)
{
    return node->next_sibling == ARB_JSON_NONE ? nullptr : &index->nodes[node->next_sibling];
}

const struct arb_json_node *arb_json_member(const struct arb_json_index *index,
                                            const struct arb_json_node *object, const char *key)
{
    size_t key_len = std::strlen(key);
    if (object == nullptr || object->type != ARB_JSON_OBJECT)
        return nullptr;
    for (const arb_json_node *n = arb_json_first(index, object); n != nullptr;
         n = arb_json_next(index, n))
        if (n->key_len == key_len && std::memcmp(n->key, key, key_len) == 0)
            return n;
    return nullptr;
}

const char *arb_json_type_name(enum arb_json_type type)
{
    switch (type) {
    case ARB_JSON_OBJECT: return "object";
    case ARB_JSON_ARRAY: return "array";
    case ARB_JSON_STRING: return "string";
    case ARB_JSON_INTEGER: return "integer";
    case ARB_JSON_REAL: return "number";
    case ARB_JSON_TRUE:
    case ARB_JSON_FALSE: return "boolean";
    case ARB_JSON_NULL: break;
    }
    return "null";
}

} // extern "C"
