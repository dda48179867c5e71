#!/bin/sh
# One broker, the leader of the busiest partition, frozen with SIGSTOP for 15 s (longer than
# the bridge's ack timeout) under load, then SIGCONT. A frozen broker is neither up nor
# down: its connections stay open and time out. Every request answered 200 has all its
# records; the bridge keeps running (a fatal idempotent-producer error is answered 503 and
# survived, never an exit) and answers 200 again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

freeze_s=15

round() {
    fault_round_setup 3
    fault_start_bridge bridge
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 4))
    partition=$(fault_busiest_partition)
    node=$(fault_leader "$partition")
    fault_kafka node-freeze "$node" 2>/dev/null
    fault_mark fault
    printf 'ok: froze node %s, leader of %s [%s], for %s s\n' "$node" "$topic" "$partition" "$freeze_s"
    sleep "$freeze_s" # the fault is "frozen for 15 s": nothing to await
    fault_kafka node-thaw "$node" 2>/dev/null
    fault_mark heal
    fault_check_alive bridge
    fault_wait_isr 120
    fault_load_finish 5
    fault_account broker_freeze "$1"
    fault_check_common bridge
    fault_stop_bridge bridge
}
fault_rounds round
arb_pass "a broker frozen for ${freeze_s} s under load: nothing lost, the bridge kept running"
