#!/bin/sh
# The producer's local queue full (queue.buffering.max.messages = 35, the mock cluster's
# answers delayed by 3 s): a request whose records do not fit is answered 503 at once, not
# after the ack timeout; once Kafka answers quickly again, 200; nothing of a 200 is lost.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

FAULT_RATE=${ARB_FAULT_MOCK_RATE:-20}
FAULT_BRIDGE_KAFKA_PROPERTIES="queue_buffering_max_messages = 35;"

round() {
    fault_start_mock
    fault_start_bridge bridge
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 2))
    fault_mock rtt -1 3000
    fault_mark fault
    since=$(sed -n 's/^mark fault //p' "$fault_tmp/load.log")
    # 503s answered within 500 ms of their request (the ack timeout is 5 s): refused at once
    fast() {
        awk -v since="$since" '$1 == "req" && $6 == 503 && $4 >= since && $5 - $4 < 500 { n++ }
                               END { print n + 0 }' "$fault_tmp/load.log"
    }
    deadline=$(($(date +%s) + 30))
    while [ "$(fast)" -lt "$FAULT_RATE" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || arb_fail "only $(fast) requests answered 503 at once with the queue full"
        fault_check_alive bridge
        sleep 0.2
    done
    fast_503=$(fast)
    fault_mock rtt -1 0
    fault_mark heal
    fault_load_finish 3
    fault_account mock_queue_full "$1"
    fault_check_common bridge
    printf 'ok: %s requests answered 503 at once while the queue was full; 200 again %s ms after\n' \
        "$fast_503" "$recovery_ms"
    fault_stop_bridge bridge
    fault_stop_mock
}
fault_rounds round
arb_pass "the producer's queue full: 503 at once, then 200, nothing lost"
