# shellcheck shell=sh
# The body of test_replay_scale_out.sh and test_replay_scale_out_cooperative.sh (which sets
# FAULT_STRATEGY): the replay scaled out while records flow. Two airudder-replay instances
# share a group on a topic of 6 partitions; one is SIGKILLed, later restarted; then a third
# joins. Every record reaches the desk, first deliveries in order per call_id; records
# delivered again are counted and bounded by what was in flight: those the desk had at the
# kill at offsets not yet committed, plus what each revocation can abort mid-request
# (desk.max_in_flight each). The group never commits past an undelivered record.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

max_in_flight=4
strategy=${FAULT_STRATEGY:-}
# A dead member's partitions wait for its session to expire: keep it short.
ARB_KAFKA_PROPERTIES="session_timeout_ms = 6000; heartbeat_interval_ms = 1000;${strategy:+ partition_assignment_strategy = \"$strategy\";}"
ARB_REPLAY_SETTINGS="max_buffered = 200;"
scenario=replay_scale_out${strategy:+_coop}

# desk_lines_after COUNT: wait until the desk has COUNT more lines than now.
desk_progress() {
    arb_wait_lines "$fault_tmp/desk.out" $(($(arb_lines "$fault_tmp/desk.out") + $1)) 60
}

# revocations: how many times a replay gave partitions back (each may abort requests).
revocations() {
    cat "$fault_tmp"/replay-?.log | grep -c 'partitions revoked\|partitions lost' || true
}

round() {
    FAULT_WATCH=bridge
    fault_round_setup 6
    group=$(arb_unique group)
    fault_start_bridge bridge
    arb_start_desk desk
    for r in a b c; do
        fault_replay_conf "replay-$r" "$group" "max_in_flight = $max_in_flight;"
    done
    fault_start_replay replay-a
    fault_start_replay replay-b
    FAULT_WATCH="bridge replay-a replay-b"
    fault_start_offsets "$group"
    fault_load_start
    fault_wait_ok $((FAULT_RATE * 3))
    desk_progress $((FAULT_RATE * 7))

    kill -KILL "$(arb_pid replay-a)"
    kill_ms=$(fault_now_ms)
    fault_mark fault
    rc=0
    arb_stop replay-a 2>/dev/null || rc=$?
    arb_assert_eq 137 "$rc" "replay-a killed with SIGKILL"
    FAULT_WATCH="bridge replay-b"
    # replay-b takes over once replay-a's session expired: every partition moves again
    desk_progress $((FAULT_RATE * 7 * 8))
    fault_start_replay replay-a
    FAULT_WATCH="bridge replay-a replay-b"
    desk_progress $((FAULT_RATE * 7 * 3))
    fault_start_replay replay-c
    FAULT_WATCH="bridge replay-a replay-b replay-c"
    desk_progress $((FAULT_RATE * 7 * 3))
    fault_mark heal
    fault_load_finish 3
    fault_wait_drained 6 120 replay-a replay-b replay-c
    sleep 1.5 # one auto-commit interval and a sample: the last commits are checked too
    arb_stop offsets || arb_fail "the offset sampler failed"
    for r in a b c; do
        arb_stop "replay-$r" || arb_fail "replay-$r did not exit 0 on SIGTERM"
    done
    revoked=$(revocations)
    protocol=eager
    [ -z "$strategy" ] || protocol=cooperative
    assigned=$(cat "$fault_tmp"/replay-?.log | grep -c "partitions assigned.*protocol=$protocol" || true)
    [ "$assigned" -ge 4 ] || arb_fail "only $assigned assignments used the $protocol protocol"
    printf 'ok: %s assignments and %s revocations, all %s\n' "$assigned" "$revoked" "$protocol"
    fault_account "$scenario" "$1" --desk "$fault_tmp/desk.out" --offsets "$fault_tmp/offsets" \
        --kill-ms "$kill_ms"
    fault_check_common bridge
    fault_check_desk
    bound=$((at_risk + revoked * max_in_flight))
    [ "$redelivered" -le "$bound" ] ||
        arb_fail "$redelivered records delivered again, more than were in flight ($at_risk at the kill + $revoked revocations x $max_in_flight)"
    printf 'ok: %s delivered again <= %s in flight (%s delivered, not committed at the kill; %s revocations x %s)\n' \
        "$redelivered" "$bound" "$at_risk" "$revoked" "$max_in_flight"
    fault_stop_bridge bridge
    arb_stop desk || true
    rm -f "$fault_tmp/desk.out" "$fault_tmp/offsets" "$fault_tmp"/replay-?.log
}
fault_rounds round
arb_pass "replay scaled out (${strategy:-default assignment}): two, one killed and back, three; every record delivered, in order"
