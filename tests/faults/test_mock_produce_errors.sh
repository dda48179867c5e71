#!/bin/sh
# Produce errors a real broker returns but cannot be made to return on cue, from librdkafka's
# mock cluster, under load: every Produce request answered NOT_ENOUGH_REPLICAS (then, in a
# second part, REQUEST_TIMED_OUT) until the errors are cleared. Meanwhile the bridge
# answers 503 and never 200 to what it is sent; once cleared, 200 again; nothing of a 200
# is lost.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

FAULT_RATE=${ARB_FAULT_MOCK_RATE:-20}

# part ERROR ROUND: one error, a fresh mock cluster and bridge.
part() {
    fault_start_mock
    fault_start_bridge bridge
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 2))
    fault_mock errors produce "$1*1000000" # as good as "from now on": each retry takes one
    fault_mark fault
    fault_wait_503 $((FAULT_RATE * 2)) 60
    fault_mark heal # before the clear: what is answered after it may be 200
    fault_mock clear produce
    fault_load_finish 3
    fault_account "mock_$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" "$2"
    fault_check_common bridge
    [ "$window_ok" -eq 0 ] || arb_fail "$window_ok requests sent during the $1 errors were answered 200"
    printf 'ok: %s: 503 while every Produce failed, 200 again %s ms after the fault\n' "$1" "$recovery_ms"
    fault_stop_bridge bridge
    fault_stop_mock
}

# fault_wait_503 COUNT TIMEOUT_S: wait until COUNT requests answered since the fault got 503.
fault_wait_503() {
    since=$(sed -n 's/^mark fault //p' "$fault_tmp/load.log")
    deadline=$(($(date +%s) + $2))
    while [ "$(fault_count_status 503 "$since")" -lt "$1" ]; do
        [ "$(date +%s)" -lt "$deadline" ] ||
            arb_fail "$(fault_count_status 503 "$since") of $1 requests answered 503 within $2 s of the fault"
        fault_check_alive bridge
        sleep 0.2
    done
}

round() {
    part NOT_ENOUGH_REPLICAS "$1"
    part REQUEST_TIMED_OUT "$1"
}
fault_rounds round
arb_pass "NOT_ENOUGH_REPLICAS and REQUEST_TIMED_OUT on every Produce: 503 until cleared, then 200, nothing lost"
