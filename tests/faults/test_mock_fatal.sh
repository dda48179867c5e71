#!/bin/sh
# A fatal idempotent-producer error under load, staged with librdkafka's mock cluster: one
# Produce answered OUT_OF_ORDER_SEQUENCE_NUMBER makes librdkafka raise the same fatal
# "sequence desynchronization" a frozen broker caused (test_broker_freeze.sh). The bridge
# must survive it: the requests waiting on the failed producer are answered 503 (not left
# without an answer), a fresh producer takes over (counted in
# airudder_bridge_producer_restarts_total), 200 again after it, and no 200 ever comes from
# the failed producer: every 200's records are in the topic.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

FAULT_RATE=${ARB_FAULT_MOCK_RATE:-20}

round() {
    fault_start_mock
    fault_start_bridge bridge
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 2))
    fault_mock errors produce OUT_OF_ORDER_SEQUENCE_NUMBER
    fault_mark fault
    deadline=$(($(date +%s) + 30))
    until grep -q 'fatal producer error' "$fault_tmp/bridge.log"; do
        [ "$(date +%s)" -lt "$deadline" ] || arb_fail "no fatal producer error within 30 s: nothing tested"
        sleep 0.1
    done
    echo "ok: the producer failed: $(grep -m 1 -o 'Fatal error: [^(]*' "$fault_tmp/bridge.log")"
    fault_wait_ok $((FAULT_RATE * 2)) 60 "$(fault_now_ms)" # fails at once if the bridge exited
    restarts=$(arb_metric "$FAULT_BRIDGE/metrics" airudder_bridge_producer_restarts_total)
    [ "${restarts%%.*}" -ge 1 ] || arb_fail "airudder_bridge_producer_restarts_total is $restarts after a fatal error"
    fault_mark heal
    fault_load_finish 3
    fault_account mock_fatal "$1"
    fault_check_common bridge
    [ "$other" -eq 0 ] || arb_fail "$other requests got no HTTP answer (the waiting ones must get 503)"
    printf 'ok: a fresh producer (%s restarts): 200 again %s ms after the fatal error, %s answered 503\n' \
        "$restarts" "$recovery_ms" "$unavailable"
    fault_stop_bridge bridge
    fault_stop_mock
}
fault_rounds round
arb_pass "a fatal producer error: 503 to the waiting requests, a fresh producer, 200 again, nothing lost"
