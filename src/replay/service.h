/* service.h - airudder-replay's service mode: a member of the consumer group replay.group,
 * subscribed to replay.topics, delivering every record to the desk through the pipeline and
 * committing an offset only once every record before it is delivered or dead-lettered.
 *
 * Runs on the calling thread until *stop is set, then stops taking records, delivers those
 * already taken (within shutdown_timeout_s), commits, leaves the group. */
#ifndef ARB_SERVICE_H
#define ARB_SERVICE_H

#include <signal.h>

#include "arb/config.h"

/* Returns the process exit code: 0 after a clean stop, 1 when it could not start, 2 after a
 * fatal runtime error. */
int arb_service_run(const struct arb_replay_conf *conf, volatile sig_atomic_t *stop,
                    volatile sig_atomic_t *reopen_logs);

/* Check everything -t checks for service mode (librdkafka accepts kafka.properties). */
int arb_service_check_conf(const struct arb_replay_conf *conf, struct arb_conf_errors *errors);

#endif
