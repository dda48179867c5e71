#!/bin/sh
# bridge -> Kafka -> replay -> desk, no faults: every message of several conversations
# reaches the desk exactly once, in order per call_id, each as a valid AIRudder event with
# one message (equal to the original element, envelope kept), signed for the desk.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1

arb_start_bridge "$messages" "$deadletter"
arb_start_desk desk
arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$(arb_unique group)" \
    "max_in_flight = 8;"
"$ARB_BUILD_DIR/airudder-replay" -t -c "$tmp/replay.conf" >/dev/null || arb_fail "replay -t rejected its config"

# Six conversations, two events of three messages each, the events interleaved.
for round in 0 1; do
    for c in 1 2 3 4 5 6; do
        arb_event "conv$c-r$round" 3 "$tmp/event.json"
        # Both rounds of a conversation share its call_id; msg_ids say which round.
        jq -c --arg call "conv$c" '.call_id = $call' "$tmp/event.json" >"$tmp/conv$c-r$round.json"
        arb_post "$tmp/conv$c-r$round.json"
    done
done

arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_wait_lines "$tmp/desk.out" 36 60
sleep 1 # anything more would be a duplicate
arb_assert_eq 36 "$(arb_lines "$tmp/desk.out")" "36 deliveries"
arb_assert_eq 36 "$(jq -r .idempotency_key "$tmp/desk.out" | sort -u | wc -l)" "36 distinct records"
arb_assert_eq '[1]' "$(jq -s -c '[.[].attempt] | unique' "$tmp/desk.out")" "each delivered on its first attempt"
arb_assert_eq '[true]' "$(jq -s -c '[.[].signature_ok] | unique' "$tmp/desk.out")" "every request signed for the desk"
arb_assert_eq '[1]' "$(jq -s -c '[.[].event.messages | length] | unique' "$tmp/desk.out")" "one message per delivered event"

for c in 1 2 3 4 5 6; do
    expected='["conv'$c'-r0-0","conv'$c'-r0-1","conv'$c'-r0-2","conv'$c'-r1-0","conv'$c'-r1-1","conv'$c'-r1-2"]'
    got=$(jq -s -c --arg call "conv$c" '[.[] | select(.event.call_id == $call) | .event.messages[0].msg_id]' "$tmp/desk.out")
    arb_assert_eq "$expected" "$got" "conv$c delivered in order"
done

# Each delivered event is the original with messages = [that element].
jq -c '.event' "$tmp/desk.out" | while read -r event; do
    msg_id=$(printf '%s' "$event" | jq -r '.messages[0].msg_id')
    call=$(printf '%s' "$event" | jq -r .call_id)
    round=$(printf '%s' "$msg_id" | sed 's/.*-\(r[01]\)-.*/\1/')
    original=$tmp/$call-$round.json
    want=$(jq -c --arg id "$msg_id" '.messages = [.messages[] | select(.msg_id == $id)]' "$original")
    [ "$want" = "$(printf '%s' "$event" | jq -c .)" ] || arb_fail "$msg_id: the desk got $event, want $want"
done || exit 1
echo "ok: every delivered event equals its original with one message"

# The Idempotency-Key is <request id>:<message_index>, the request id of the webhook.
key=$(jq -r 'select(.event.messages[0].msg_id == "conv3-r1-2") | .idempotency_key' "$tmp/desk.out")
arb_assert_eq "$(sha256sum "$tmp/conv3-r1.json" | cut -c1-32):2" "$key" "Idempotency-Key of conv3-r1-2"

arb_assert_eq 36 "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="ok"}')" "metrics: 36 delivered"
arb_assert_eq 0 "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="deadletter"}')" "metrics: nothing dead-lettered"
arb_assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$ARB_ADMIN_URL/readyz")" "/readyz"
arb_stop replay || arb_fail "replay did not exit 0 on SIGTERM"
arb_assert_eq 0 "$(arb_topic_count "$deadletter")" "dead letters"
arb_pass "replay: 36 messages of 6 conversations delivered once each, in order, signed"
