#!/bin/sh
# Two of the three brokers SIGKILLed at once under load: below min.insync.replicas (2), so
# no write can be acknowledged. The bridge must answer 503, never 200, to what it is sent
# while they are down; then they are restarted, and once the ISR is back it answers 200
# again. Nothing of a 200 is lost (before, during or after) and the bridge keeps running.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

down_s=12 # longer than twice the ack timeout: requests sent meanwhile are all answered

round() {
    fault_round_setup 3
    fault_start_bridge bridge
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 4))
    partition=$(fault_busiest_partition)
    first=$(fault_leader "$partition")
    second=$((first % 3 + 1))
    fault_kafka node-kill "$first" "$second" 2>/dev/null
    fault_mark fault # after the kill: what is sent from here on cannot reach two replicas
    printf 'ok: killed nodes %s and %s at once\n' "$first" "$second"
    sleep "$down_s" # the fault is "down for 12 s": nothing to await
    fault_mark heal
    unavailable_now=$(fault_count_status 503)
    fault_kafka node-start "$first" "$second" 2>/dev/null ||
        arb_fail "cannot restart nodes $first and $second"
    fault_wait_isr 120
    fault_load_finish 5
    fault_account below_min_isr "$1"
    fault_check_common bridge
    [ "$window_ok" -eq 0 ] ||
        arb_fail "$window_ok requests sent while two brokers were down were answered 200"
    [ "$unavailable_now" -gt 0 ] || arb_fail "no 503 while two brokers were down: nothing tested"
    printf 'ok: no 200 while below min.insync.replicas (%s answered 503 by then)\n' "$unavailable_now"
    fault_stop_bridge bridge
}
fault_rounds round
arb_pass "two brokers killed at once: only 503 until the ISR was back, then 200, nothing lost"
