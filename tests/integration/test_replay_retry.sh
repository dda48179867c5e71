#!/bin/sh
# The desk answers 503 to the first two attempts of every message: everything is delivered,
# on the third attempt, in order per conversation. Without Retry-After the backoff is the
# replay's (capped exponential, full jitter); with Retry-After: 1 every retry waits at least
# a second, which the delivery times show.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)

# run_case NAME [SAMPLE-DESK OPTION...]: three conversations of two messages through a desk
# that fails each message's first two attempts; leaves the desk's record in $tmp/NAME.out.
run_case() {
    name=$1
    shift
    messages=$(arb_unique messages)
    deadletter=$(arb_unique deadletter)
    arb_topic_create "$messages" 3
    arb_topic_create "$deadletter" 1
    arb_start_bridge "$messages" "$deadletter"
    arb_start_desk "$name" --fail-first 2 --fail-status 503 "$@"
    arb_replay_conf "$tmp/$name.conf" "$messages" "$deadletter" "$(arb_unique group)" \
        "retry_base_ms = 50;" "retry_cap_ms = 400;" "max_retry_s = 60;"
    for c in a b c; do
        arb_event "$name-$c" 2 "$tmp/$name-$c.json"
        arb_post "$tmp/$name-$c.json"
    done
    posted=$(date +%s%3N)
    arb_bg "replay-$name" "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/$name.conf"
    arb_wait_lines "$tmp/$name.out" 6 60
    sleep 0.5
    arb_assert_eq 6 "$(arb_lines "$tmp/$name.out")" "$name: six deliveries"
    arb_assert_eq '[3]' "$(jq -s -c '[.[].attempt] | unique' "$tmp/$name.out")" "$name: each accepted on its third attempt"
    for c in a b c; do
        arb_assert_eq "[\"$name-$c-0\",\"$name-$c-1\"]" \
            "$(jq -s -c --arg call "$name-$c" '[.[] | select(.event.call_id == $call) | .event.messages[0].msg_id]' "$tmp/$name.out")" \
            "$name: conversation $c in order"
    done
    arb_assert_eq 12 "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="retry"}')" "$name: 12 retries counted"
    arb_assert_eq 18 "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_attempts_total')" "$name: 18 attempts"
    arb_assert_eq 0 "$(arb_topic_count "$deadletter")" "$name: nothing dead-lettered"
    arb_stop "replay-$name" || arb_fail "$name: replay did not exit 0"
    arb_stop bridge || arb_fail "$name: bridge did not exit 0"
}

run_case backoff

run_case retryafter --retry-after 1
# Each message waited two Retry-After seconds; a conversation's second message started after
# its first was delivered, so it arrived at least two seconds later.
for c in a b c; do
    gap=$(jq -s --arg call "retryafter-$c" '[.[] | select(.event.call_id == $call) | .received_at] | .[1] - .[0]' "$tmp/retryafter.out")
    [ "$gap" -ge 2000 ] || arb_fail "retryafter-$c: second message only ${gap} ms after the first (Retry-After: 1 twice)"
    echo "ok: retryafter-$c: ${gap} ms between the two deliveries"
done
first=$(jq -s '[.[].received_at] | min' "$tmp/retryafter.out")
[ $((first - posted)) -ge 2000 ] || arb_fail "first delivery only $((first - posted)) ms after the posts"
echo "ok: first delivery $((first - posted)) ms after the posts"
arb_pass "replay: retried 408/429/5xx with backoff and Retry-After, order kept, nothing lost"
