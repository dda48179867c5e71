#!/bin/sh
# The bridge itself SIGKILLed under load, then restarted on the same port. Requests it was
# holding get no answer (the sender retries them); no request was ever answered 200 without
# its records in Kafka, and the restarted bridge answers 200.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

round() {
    fault_round_setup 3
    fault_start_bridge bridge
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 4))
    pid=$(arb_pid bridge)
    kill -KILL "$pid"
    fault_mark fault
    rc=0
    wait "$pid" || rc=$?
    arb_assert_eq 137 "$rc" "bridge killed with SIGKILL"
    fault_restart_bridge bridge
    fault_mark heal
    fault_load_finish 5
    fault_account bridge_kill "$1"
    fault_check_common bridge
    fault_stop_bridge bridge
}
fault_rounds round
arb_pass "bridge SIGKILLed under load and restarted: no 200 without its records"
