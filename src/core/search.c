/* search.c - the conversations of a time window (see search.h).
 *
 * Records are grouped by call_id in an open-addressing hash table (FNV-1a), which grows at
 * half full; once max conversations are known, records of new ones are only counted. For
 * each conversation the value of its latest record is kept, for the preview. */
#include "arb/search.h"

#include "arb/html.h"
#include "arb/mem.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CALL_ID_MAX 512
#define EVENTS_MAX 4

struct found {
    char *call_id;
    size_t records;
    int64_t first_ms, last_ms;
    char *events[EVENTS_MAX];
    size_t nevents;
    char *last_value; /* the latest record's value, for the preview */
    size_t last_len;
};

struct arb_search {
    char *filter;
    size_t max;
    struct found **slots; /* the hash table */
    size_t nslots, count;
    unsigned long long beyond; /* records of conversations past max */
    bool sorted;
    struct found **list;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

struct arb_search *arb_search_new(const char *filter, size_t max)
{
    struct arb_search *search = arb_xcalloc(1, sizeof(*search));
    search->filter = arb_xstrdup(filter != NULL ? filter : "");
    search->max = max;
    search->nslots = 64;
    search->slots = arb_xcalloc(search->nslots, sizeof(*search->slots));
    return search;
}

void arb_search_destroy(struct arb_search *search)
{
    if (search == NULL)
        return;
    for (size_t i = 0; i < search->nslots; i++) {
        struct found *f = search->slots[i];
        if (f == NULL)
            continue;
        for (size_t e = 0; e < f->nevents; e++)
            free(f->events[e]);
        free(f->call_id);
        free(f->last_value);
        free(f);
    }
    free(search->slots);
    free(search->list);
    free(search->filter);
    free(search);
}

static struct found **slot_of(struct found **slots, size_t nslots, const char *call_id)
{
    size_t i = (size_t)(hash(call_id) & (nslots - 1));
    while (slots[i] != NULL && strcmp(slots[i]->call_id, call_id) != 0)
        i = (i + 1) & (nslots - 1);
    return &slots[i];
}

static void grow(struct arb_search *search)
{
    size_t nslots = search->nslots * 2;
    struct found **slots = arb_xcalloc(nslots, sizeof(*slots));
    for (size_t i = 0; i < search->nslots; i++)
        if (search->slots[i] != NULL)
            *slot_of(slots, nslots, search->slots[i]->call_id) = search->slots[i];
    free(search->slots);
    search->slots = slots;
    search->nslots = nslots;
}

static const char *event_of(const struct arb_conv_record *record, char *buf, size_t size)
{
    for (size_t i = record->nheaders; i-- > 0;) {
        const struct arb_header *h = &record->headers[i];
        if (h->name != NULL && strcmp(h->name, "airudder-event") == 0 && h->value != NULL) {
            size_t n = h->len < size - 1 ? h->len : size - 1;
            memcpy(buf, h->value, n);
            buf[n] = '\0';
            return buf;
        }
    }
    return NULL;
}

void arb_search_add(struct arb_search *search, const struct arb_conv_record *record)
{
    char call_id[CALL_ID_MAX], event[128];
    arb_conv_record_call_id(record, call_id, sizeof(call_id));
    if (call_id[0] == '\0' || (search->filter[0] != '\0' && strstr(call_id, search->filter) == NULL))
        return;
    struct found **slot = slot_of(search->slots, search->nslots, call_id);
    struct found *f = *slot;
    if (f == NULL) {
        if (search->count >= search->max) {
            search->beyond++;
            return;
        }
        f = *slot = arb_xcalloc(1, sizeof(*f));
        f->call_id = arb_xstrdup(call_id);
        f->first_ms = record->timestamp_ms;
        search->count++;
        if (2 * search->count > search->nslots)
            grow(search);
    }
    f->records++;
    if (record->timestamp_ms < f->first_ms)
        f->first_ms = record->timestamp_ms;
    if (f->last_value == NULL || record->timestamp_ms >= f->last_ms) {
        f->last_ms = record->timestamp_ms;
        free(f->last_value);
        f->last_value = arb_xstrndup(record->value != NULL ? record->value : "", record->value_len);
        f->last_len = record->value_len;
    }
    const char *name = event_of(record, event, sizeof(event));
    bool known = name == NULL;
    for (size_t i = 0; i < f->nevents && !known; i++)
        known = strcmp(f->events[i], name) == 0;
    if (!known && f->nevents < EVENTS_MAX)
        f->events[f->nevents++] = arb_xstrdup(name);
}

static int most_recent_first(const void *a, const void *b)
{
    const struct found *x = *(struct found *const *)a, *y = *(struct found *const *)b;
    if (x->last_ms != y->last_ms)
        return x->last_ms > y->last_ms ? -1 : 1;
    return strcmp(x->call_id, y->call_id);
}

static void sort(struct arb_search *search)
{
    if (search->sorted)
        return;
    search->sorted = true;
    search->list = arb_xcalloc(search->count + 1, sizeof(*search->list));
    size_t n = 0;
    for (size_t i = 0; i < search->nslots; i++)
        if (search->slots[i] != NULL)
            search->list[n++] = search->slots[i];
    qsort(search->list, n, sizeof(*search->list), most_recent_first);
}

static void channel_of(struct arb_buf *out, const struct found *f)
{
    json_t *value = json_loadb(f->last_value, f->last_len, 0, NULL);
    const char *channel = json_string_value(json_object_get(value, "channel"));
    arb_html_puts(out, channel != NULL ? channel : "");
    json_decref(value);
}

static void link_to(struct arb_buf *out, const struct found *f, const struct arb_search_view *view)
{
    struct arb_buf href;
    arb_buf_init(&href);
    arb_buf_puts(&href, "/conversation?call_id=");
    arb_url_encode(&href, f->call_id);
    if (view->from != NULL && view->from[0] != '\0') {
        arb_buf_puts(&href, "&from=");
        arb_url_encode(&href, view->from);
    }
    if (view->until != NULL && view->until[0] != '\0') {
        arb_buf_puts(&href, "&until=");
        arb_url_encode(&href, view->until);
    }
    arb_html_attr(out, href.data);
    arb_buf_free(&href);
}

void arb_search_html(struct arb_search *search, const struct arb_search_view *view,
                     struct arb_buf *out)
{
    const struct arb_page_search bar = {search->filter, view->from, view->until};
    sort(search);
    arb_page_begin(out, "Conversations", &bar);
    arb_buf_puts(out, "<section class=\"search-results\"><h1>Conversations</h1>");
    if (view->problem != NULL) {
        arb_buf_puts(out, "<p class=\"notice problem\">");
        arb_html_puts(out, view->problem);
        arb_buf_puts(out, "</p>");
    }
    if (!view->searched) {
        arb_buf_puts(out, "<p class=\"notice\">Search by call_id (or a part of one) and a time "
                          "window (RFC 3339 or epoch milliseconds, compared with when the "
                          "bridge received the records). Without a window every record is "
                          "read.</p></section>");
        arb_page_end(out);
        return;
    }
    arb_buf_printf(out, "<p class=\"summary\">%zu conversation%s in %llu records read", search->count,
                   search->count == 1 ? "" : "s", view->scanned);
    if (search->beyond > 0) /* the first found, in reading order: not the most recent */
        arb_buf_printf(out, "; only the first %zu found are listed (%llu records of others "
                            "not shown)", search->count, search->beyond);
    arb_buf_puts(out, ".</p>");
    if (search->count > 0)
        arb_buf_puts(out, "<table class=\"found\"><thead><tr><th>call_id</th><th>messages</th>"
                          "<th>first</th><th>last</th><th>events</th><th>channel</th>"
                          "<th>last message</th></tr></thead><tbody>");
    for (size_t i = 0; i < search->count; i++) {
        const struct found *f = search->list[i];
        arb_buf_puts(out, "<tr><td><a class=\"conversation-link\" href=\"");
        link_to(out, f, view);
        arb_buf_puts(out, "\"><code>");
        arb_html_puts(out, f->call_id);
        arb_buf_printf(out, "</code></a></td><td>%zu</td><td>", f->records);
        arb_html_time(out, f->first_ms, false);
        arb_buf_puts(out, "</td><td>");
        arb_html_time(out, f->last_ms, false);
        arb_buf_puts(out, "</td><td>");
        for (size_t e = 0; e < f->nevents; e++) {
            if (e > 0)
                arb_buf_puts(out, ", ");
            arb_html_puts(out, f->events[e]);
        }
        arb_buf_puts(out, "</td><td>");
        channel_of(out, f);
        arb_buf_puts(out, "</td><td>");
        arb_conv_summary_html(out, f->last_value, f->last_len);
        arb_buf_puts(out, "</td></tr>");
    }
    if (search->count > 0)
        arb_buf_puts(out, "</tbody></table>");
    arb_buf_puts(out, "</section>");
    arb_page_end(out);
}

void arb_search_json(struct arb_search *search, const struct arb_search_view *view,
                     struct arb_buf *out)
{
    sort(search);
    json_t *list = json_array();
    for (size_t i = 0; i < search->count; i++) {
        const struct found *f = search->list[i];
        json_t *events = json_array();
        for (size_t e = 0; e < f->nevents; e++)
            json_array_append_new(events, json_string(f->events[e]));
        json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:I, s:o}", "call_id", f->call_id,
                                              "records", (json_int_t)f->records, "first",
                                              (json_int_t)f->first_ms, "last",
                                              (json_int_t)f->last_ms, "events", events));
    }
    json_t *doc = json_pack("{s:o, s:I, s:I, s:o}", "conversations", list, "scanned",
                            (json_int_t)view->scanned, "not_listed", (json_int_t)search->beyond,
                            "problem", view->problem ? json_string(view->problem) : json_null());
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (text != NULL)
        arb_buf_puts(out, text);
    arb_buf_puts(out, "\n");
    free(text);
    json_decref(doc);
}
