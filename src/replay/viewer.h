/* viewer.h - airudder-replay --view: the conversation viewer, served on viewer.listen.
 *
 * Pages are built per request from Kafka (the messages of replay.topics and the delivery
 * log), with no store of its own; the core decides what a request asks for, whether it may
 * have it (core/view_request.c) and what the page says (core/conversation.c, search.c);
 * this adapter only carries bytes between libmicrohttpd, librdkafka (history.h) and debug
 * mode's re-send (debug.h). */
#ifndef ARB_REPLAY_VIEWER_H
#define ARB_REPLAY_VIEWER_H

#include <signal.h>

#include "arb/config.h"

/* Serve until *stop; returns the exit code (0, or 1 when it cannot listen). */
int arb_viewer_run(const struct arb_replay_conf *conf, volatile sig_atomic_t *stop);

#endif
