#!/bin/sh
# The replay delivering to the sample desk while the leader of the busiest partition is
# SIGKILLed (and the bridge writes under load), then restarted. Every record reaches the
# desk at least once, first deliveries in order per call_id; the group never commits an
# offset past a record the desk did not have by then (sampled every 200 ms).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

# A dead member's partitions wait for its session to expire: keep it short.
ARB_KAFKA_PROPERTIES="session_timeout_ms = 6000; heartbeat_interval_ms = 1000;"

round() {
    FAULT_WATCH=bridge
    fault_round_setup 3
    group=$(arb_unique group)
    fault_start_bridge bridge
    arb_start_desk desk
    fault_replay_conf replay "$group" "max_in_flight = 8;"
    fault_start_replay replay
    FAULT_WATCH="bridge replay"
    fault_start_offsets "$group"
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 4))
    arb_wait_lines "$fault_tmp/desk.out" $((FAULT_RATE * 7)) 60
    partition=$(fault_busiest_partition)
    leader=$(fault_leader "$partition")
    fault_kafka node-kill "$leader" 2>/dev/null
    fault_mark fault
    printf 'ok: killed node %s, leader of %s [%s]\n' "$leader" "$topic" "$partition"
    fault_wait_new_leader "$partition" "$leader"
    fault_wait_ok 1 60 "$(fault_now_ms)"
    fault_mark heal
    fault_kafka node-start "$leader" 2>/dev/null || arb_fail "cannot restart node $leader"
    fault_wait_isr 120
    fault_load_finish 5
    fault_wait_drained 3 120 replay
    sleep 1.5 # one auto-commit interval and a sample: the last commits are checked too
    arb_stop offsets || arb_fail "the offset sampler failed"
    fault_check_alive replay
    arb_stop replay || arb_fail "replay did not exit 0 on SIGTERM"
    fault_account replay_leader_kill "$1" --desk "$fault_tmp/desk.out" --offsets "$fault_tmp/offsets"
    fault_check_common bridge
    fault_check_desk
    fault_stop_bridge bridge
    arb_stop desk || true
    rm -f "$fault_tmp/desk.out" "$fault_tmp/offsets"
}
fault_rounds round
arb_pass "replay delivering while a leader was killed: every record at least once, in order, no commit ahead"
