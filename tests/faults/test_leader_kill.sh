#!/bin/sh
# The leader of the busiest partition is SIGKILLed under load, then restarted. Every request
# answered 200 has all its records in Kafka; the bridge keeps running and answers 200 again
# once the partition has a new leader.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

round() {
    fault_round_setup 3
    fault_start_bridge bridge
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 4))
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
    fault_account leader_kill "$1"
    fault_check_common bridge
    fault_stop_bridge bridge
}
fault_rounds round
arb_pass "leader of the busiest partition killed and restarted under load: nothing lost"
