#!/bin/sh
# Stops in the middle of a stream. SIGKILL, then a restart: every record reaches the desk at
# least once. SIGTERM, then a restart: every record reaches the desk exactly once (the replay
# stops taking records, delivers those it took, commits, leaves).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
# After a SIGKILL the dead member holds its partitions until its session expires: keep it short.
ARB_KAFKA_PROPERTIES="session_timeout_ms = 6000; heartbeat_interval_ms = 1000;"
ARB_REPLAY_SETTINGS="max_buffered = 16;"
conversations=10
per_conversation=8
total=$((conversations * per_conversation))

# run NAME SIGNAL: post the stream, start the replay, stop it with SIGNAL after a fifth of
# the stream reached the desk, restart it, wait for the whole stream.
run() {
    name=$1 signal=$2
    messages=$(arb_unique messages)
    deadletter=$(arb_unique deadletter)
    group=$(arb_unique group)
    arb_topic_create "$messages" 3
    arb_topic_create "$deadletter" 1
    arb_start_bridge "$messages" "$deadletter"
    arb_start_desk "desk-$name" --latency-ms 40
    arb_replay_conf "$tmp/$name.conf" "$messages" "$deadletter" "$group" "max_in_flight = 4;"
    c=0
    while [ $c -lt $conversations ]; do
        arb_event "$name-$c" $per_conversation "$tmp/event.json"
        arb_post "$tmp/event.json"
        c=$((c + 1))
    done
    arb_bg "replay-$name" "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/$name.conf"
    arb_wait_lines "$tmp/desk-$name.out" $((total / 5)) 60
    if [ "$signal" = KILL ]; then
        kill -KILL "$(arb_pid "replay-$name")"
        rc=0
        arb_stop "replay-$name" 2>/dev/null || rc=$?
        arb_assert_eq 137 "$rc" "$name: killed"
    else
        arb_stop "replay-$name" || arb_fail "$name: replay did not exit 0 on SIGTERM"
    fi
    at_stop=$(arb_lines "$tmp/desk-$name.out")
    [ "$at_stop" -lt "$total" ] || arb_fail "$name: the stream was over before the stop; nothing tested"
    echo "ok: $name: $at_stop of $total delivered when stopped"
    arb_bg "replay-$name" "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/$name.conf"
    deadline=$(($(date +%s) + 60))
    while [ "$(jq -r .idempotency_key "$tmp/desk-$name.out" | sort -u | wc -l)" -lt "$total" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || arb_fail "$name: not every record delivered after the restart"
        sleep 0.2
    done
    sleep 1
    arb_stop "replay-$name" || arb_fail "$name: restarted replay did not exit 0"
    arb_stop bridge || true
    # Order per conversation held across the stop (duplicates, if any, repeat a prefix).
    c=0
    while [ $c -lt $conversations ]; do
        ids=$(jq -s -c --arg call "$name-$c" '[.[] | select(.event.call_id == $call) | .event.messages[0].msg_id] | unique | length' "$tmp/desk-$name.out")
        arb_assert_eq $per_conversation "$ids" "$name-$c: every message delivered" >/dev/null
        c=$((c + 1))
    done
}

run kill KILL
lines=$(arb_lines "$tmp/desk-kill.out")
echo "ok: after SIGKILL and restart: $total records, $lines deliveries ($((lines - total)) duplicates, allowed)"

run term TERM
arb_assert_eq $total "$(arb_lines "$tmp/desk-term.out")" "after SIGTERM and restart: no record delivered twice"
arb_assert_eq '[1]' "$(jq -s -c '[.[].attempt] | unique' "$tmp/desk-term.out")" "each record accepted on its only attempt"
arb_pass "replay: at least once across SIGKILL, exactly once across SIGTERM"
