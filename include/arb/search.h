/* search.h - the viewer's search page: the conversations found in a time window (all of
 * them, or those whose call_id contains a given text), most recent first, each with its
 * number of messages, first and last receipt times, events, channel and a preview of its
 * last message; as HTML or JSON. Pure: records in, bytes out. */
#ifndef ARB_SEARCH_H
#define ARB_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "arb/buf.h"
#include "arb/conversation.h"

struct arb_search;

/* filter: a part of the call_id to look for ("" or NULL: any); at most max conversations
 * are listed (more are counted). */
struct arb_search *arb_search_new(const char *filter, size_t max);
void arb_search_destroy(struct arb_search *search);

void arb_search_add(struct arb_search *search, const struct arb_conv_record *record);

struct arb_search_view {
    const char *from, *until; /* as typed, NULL: none */
    const char *problem;      /* a reading problem to show, or NULL */
    bool searched;            /* false: the empty start page */
    unsigned long long scanned; /* records read */
};

void arb_search_html(struct arb_search *search, const struct arb_search_view *view,
                     struct arb_buf *out);
void arb_search_json(struct arb_search *search, const struct arb_search_view *view,
                     struct arb_buf *out);

#endif
