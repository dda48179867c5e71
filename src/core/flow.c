/* flow.c - service mode's flow control (see flow.h).
 *
 * A partition's state is two bits, assigned and paused, kept as the decisions are made; the
 * caller undoes the one the consumer refused. The stall clock starts when the buffer is
 * first seen full and stops the first time it is not. */
#include "arb/flow.h"
#include "arb/mem.h"

#include <stdlib.h>

struct part {
    bool assigned, paused;
};

struct arb_flow {
    size_t max_buffered;
    struct part *parts;
    int nparts;
    int paused;      /* partitions paused */
    bool full;       /* the buffer was full at the last turn */
    int64_t full_since;
    bool stalled;    /* full for ARB_FLOW_STALL_NS: partitions reaching their share pause */
    bool stopping;
    bool woken;      /* the fetcher was woken, at woken_at */
    int64_t woken_at;
};

struct arb_flow *arb_flow_new(size_t max_buffered)
{
    struct arb_flow *flow = arb_xcalloc(1, sizeof(*flow));
    flow->max_buffered = max_buffered;
    return flow;
}

void arb_flow_destroy(struct arb_flow *flow)
{
    if (flow == NULL)
        return;
    free(flow->parts);
    free(flow);
}

static struct part *part_of(const struct arb_flow *flow, int part)
{
    return part >= 0 && part < flow->nparts ? &flow->parts[part] : NULL;
}

static void set_paused(struct arb_flow *flow, struct part *p, bool paused)
{
    if (p->paused != paused)
        flow->paused += paused ? 1 : -1;
    p->paused = paused;
}

void arb_flow_assign(struct arb_flow *flow, int part)
{
    if (part < 0)
        return;
    if (part >= flow->nparts) {
        flow->parts = arb_xrealloc(flow->parts, (size_t)(part + 1) * sizeof(*flow->parts));
        for (int i = flow->nparts; i <= part; i++)
            flow->parts[i] = (struct part){false, false};
        flow->nparts = part + 1;
    }
    set_paused(flow, &flow->parts[part], false);
    flow->parts[part].assigned = true;
}

void arb_flow_revoke(struct arb_flow *flow, int part)
{
    struct part *p = part_of(flow, part);
    if (p == NULL)
        return;
    set_paused(flow, p, false);
    p->assigned = false;
}

bool arb_flow_may_poll(const struct arb_flow *flow, size_t held)
{
    return flow->stopping || held < flow->max_buffered || flow->paused > 0;
}

/* A partition's share of the buffer. */
static size_t share(const struct arb_flow *flow)
{
    int assigned = 0;
    for (int i = 0; i < flow->nparts; i++)
        assigned += flow->parts[i].assigned;
    return flow->max_buffered / (size_t)(assigned > 0 ? assigned : 1);
}

static bool over_share(const struct arb_flow *flow, const struct part *p, size_t pending)
{
    return p->assigned && !p->paused && pending >= share(flow);
}

bool arb_flow_took(struct arb_flow *flow, int part, size_t pending)
{
    struct part *p = part_of(flow, part);
    if (!flow->stalled || p == NULL || !over_share(flow, p, pending))
        return false;
    set_paused(flow, p, true);
    return true;
}

/* The stall clock; true once the buffer has been full for ARB_FLOW_STALL_NS. */
static bool stalled(struct arb_flow *flow, int64_t now_ns, size_t held)
{
    if (held < flow->max_buffered) {
        flow->full = flow->stalled = false;
        return false;
    }
    if (!flow->full) {
        flow->full = true;
        flow->full_since = now_ns;
    }
    flow->stalled = flow->stalled || now_ns - flow->full_since >= ARB_FLOW_STALL_NS;
    return flow->stalled;
}

static size_t decide(struct arb_flow *flow, struct part *p, int part, bool pause,
                     struct arb_flow_action *out)
{
    set_paused(flow, p, pause);
    *out = (struct arb_flow_action){part, pause};
    return 1;
}

size_t arb_flow_turn(struct arb_flow *flow, int64_t now_ns, size_t held, const size_t *pending,
                     int nparts, struct arb_flow_action *out)
{
    size_t n = 0;
    int upto = nparts < flow->nparts ? nparts : flow->nparts;

    if (stalled(flow, now_ns, held))
        for (int i = 0; i < upto; i++)
            if (over_share(flow, &flow->parts[i], pending[i]))
                n += decide(flow, &flow->parts[i], i, true, &out[n]);
    size_t half = share(flow) / 2;
    for (int i = 0; i < upto; i++) {
        struct part *p = &flow->parts[i];
        if (p->assigned && p->paused && pending[i] <= half)
            n += decide(flow, p, i, false, &out[n]);
    }
    return n;
}

static bool any_fetching(const struct arb_flow *flow)
{
    for (int i = 0; i < flow->nparts; i++)
        if (flow->parts[i].assigned && !flow->parts[i].paused)
            return true;
    return false;
}

bool arb_flow_wake_due(struct arb_flow *flow, int64_t now_ns, size_t held, bool queue_empty)
{
    if (!queue_empty || flow->stopping || held > flow->max_buffered / 2 || !any_fetching(flow))
        return false;
    if (flow->woken && now_ns - flow->woken_at < ARB_FLOW_WAKE_NS)
        return false;
    flow->woken = true;
    flow->woken_at = now_ns;
    return true;
}

size_t arb_flow_stop(struct arb_flow *flow, int nparts, struct arb_flow_action *out)
{
    size_t n = 0;
    int upto = nparts < flow->nparts ? nparts : flow->nparts;
    flow->stopping = true;
    for (int i = 0; i < upto; i++)
        if (flow->parts[i].assigned && !flow->parts[i].paused)
            n += decide(flow, &flow->parts[i], i, true, &out[n]);
    return n;
}

void arb_flow_refused(struct arb_flow *flow, const struct arb_flow_action *action)
{
    struct part *p = part_of(flow, action->part);
    if (p != NULL)
        set_paused(flow, p, !action->pause);
}

bool arb_flow_assigned(const struct arb_flow *flow, int part)
{
    const struct part *p = part_of(flow, part);
    return p != NULL && p->assigned;
}

bool arb_flow_paused(const struct arb_flow *flow, int part)
{
    const struct part *p = part_of(flow, part);
    return p != NULL && p->paused;
}

int arb_flow_paused_count(const struct arb_flow *flow)
{
    return flow->paused;
}
