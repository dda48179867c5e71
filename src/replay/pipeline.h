/* pipeline.h - the replay's delivery engine: records in, the desk (or the dead letter) out.
 *
 * A record handed to the pipeline is delivered to the desk at least once, after every
 * earlier record of its conversation (call_id) is done, while different conversations go
 * concurrently up to desk.max_in_flight. Retriable failures are retried with capped
 * exponential backoff and full jitter (honouring Retry-After); a final refusal, or a record
 * still failing after desk.max_retry_s, goes to the dead-letter topic, and only once Kafka
 * acknowledged it is the record done. When a partition's oldest unfinished record finishes,
 * the committable offset of that partition advances and the owner is told (service mode
 * stores it for commit; debug mode commits nothing). In service mode a record its partition
 * already delivered within dedup.window_s (a retried webhook's second copy) is done without
 * being sent.
 *
 * Those decisions are core/jobs.c's; the pipeline is their driver, over libcurl (the desk
 * client) and librdkafka (the dead-letter producer); this interface speaks the core's types
 * (jobs.h) and poll(2)'s.
 *
 * Single-threaded: every function runs on the replay's loop thread. The metrics may be
 * rendered from another thread. */
#ifndef ARB_PIPELINE_H
#define ARB_PIPELINE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/buf.h"
#include "arb/config.h"
#include "arb/error.h"
#include "arb/jobs.h"
#include "arb/outcome.h"

struct arb_pipeline;

/* A partition's committable offset advanced to offset (the next offset to consume). */
typedef void arb_committable_fn(void *opaque, int part, int64_t offset);

/* on_committable may be NULL. The dead-letter producer's kafka.properties problems go to
 * errors as file:line. */
struct arb_pipeline *arb_pipeline_new(const struct arb_replay_conf *conf,
                                      arb_committable_fn *on_committable, void *opaque,
                                      struct arb_conf_errors *errors);
/* Flushes the dead-letter producer (at most timeout_ms), aborts the rest, frees all. */
void arb_pipeline_destroy(struct arb_pipeline *pipeline, int timeout_ms);

/* Check the dead-letter producer's configuration (for -t). */
int arb_pipeline_check_conf(const struct arb_replay_conf *conf, struct arb_conf_errors *errors);

/* Service mode: from now on a record whose Idempotency-Key its partition delivered within
 * dedup.window_s is done without being sent (nothing when window_s is 0); a partition's
 * window goes when the partition is dropped. Without this call (debug mode, whose re-sends
 * are deliberate) every record is sent. */
void arb_pipeline_dedup(struct arb_pipeline *pipeline);

/* Take a consumed record of partition part (an index the caller chose); it is copied.
 * Records of one partition must come in offset order. */
void arb_pipeline_add(struct arb_pipeline *pipeline, int part,
                      const struct arb_job_record *record);

/* Start what may start, wait at most timeout_ms for the desk, the dead-letter producer or
 * one of extra (POLLIN, POLLPRI, POLLOUT; their revents are then set), and handle what
 * finished. */
int arb_pipeline_run(struct arb_pipeline *pipeline, struct pollfd *extra, unsigned nextra,
                     int timeout_ms, struct arb_error *err);

/* Forget a partition's records (revoked): requests in flight are aborted first, so no two
 * records of one conversation are ever outstanding. Their offsets are not committed. */
void arb_pipeline_drop_partition(struct arb_pipeline *pipeline, int part);

/* A record is done: delivered (the desk answered 2xx) or dead-lettered (the dead-letter
 * topic acknowledged it). Called on the loop thread, at most once per record taken, before
 * the record is released; it must not block (the delivery log's producer queues and
 * returns). */
typedef void arb_outcome_fn(void *opaque, const struct arb_outcome *outcome);
void arb_pipeline_on_outcome(struct arb_pipeline *pipeline, arb_outcome_fn *fn, void *opaque);

/* Give up on everything still held (shutdown past its timeout). */
void arb_pipeline_abandon(struct arb_pipeline *pipeline);

size_t arb_pipeline_pending(const struct arb_pipeline *pipeline, int part);
size_t arb_pipeline_total(const struct arb_pipeline *pipeline);

/* False after the desk failed to answer (or answered 5xx/429) and has not succeeded since. */
bool arb_pipeline_desk_reachable(const struct arb_pipeline *pipeline);

void arb_pipeline_metrics(const struct arb_pipeline *pipeline, struct arb_buf *out);

#endif
