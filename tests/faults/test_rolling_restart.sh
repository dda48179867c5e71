#!/bin/sh
# A rolling restart under load: each of the three brokers in turn stopped (SIGTERM: a
# controlled shutdown moves its leaderships away first), started again, and every partition
# fully in sync before the next, as an operator does it. Nothing of a 200 is lost and the
# bridge keeps running.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

round() {
    fault_round_setup 3
    fault_start_bridge bridge
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 4))
    fault_mark fault
    for node in 1 2 3; do
        fault_kafka node-stop "$node" 2>/dev/null || arb_fail "cannot stop node $node"
        fault_kafka node-start "$node" 2>/dev/null || arb_fail "cannot start node $node"
        fault_wait_isr 120
        printf 'ok: node %s restarted, every partition in sync again\n' "$node"
        fault_wait_ok 1 60 "$(fault_now_ms)"
    done
    fault_mark heal
    fault_load_finish 5
    fault_account rolling_restart "$1"
    fault_check_common bridge
    fault_stop_bridge bridge
}
fault_rounds round
arb_pass "rolling restart of all three brokers under load: nothing lost"
