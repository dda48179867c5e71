#!/bin/sh
# A message the desk refuses (400) goes to the dead-letter topic with the contract's headers
# and its conversation continues with the next message. A message that keeps failing with
# 503 is dead-lettered once desk.max_retry_s has passed.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
arb_start_bridge "$messages" "$deadletter"

# 1. A final refusal: 400 for one message.
arb_start_desk desk --reject-msg-id refused-1 --reject-status 400
arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$(arb_unique group)"
arb_event refused 3 "$tmp/refused.json"
arb_post "$tmp/refused.json"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_wait_lines "$tmp/desk.out" 2 60
letter=$(arb_consume "$deadletter" 1) || arb_fail "no dead letter"
sleep 0.5
arb_assert_eq '["refused-0","refused-2"]' "$(jq -s -c '[.[].event.messages[0].msg_id]' "$tmp/desk.out")" "the conversation went on past the refused message"
arb_assert_eq replay "$(printf '%s' "$letter" | jq -r "$(arb_jq_header airudder-dlq-source)")" "dlq source"
arb_assert_eq 400 "$(printf '%s' "$letter" | jq -r "$(arb_jq_header airudder-dlq-status)")" "dlq status"
arb_assert_eq 1 "$(printf '%s' "$letter" | jq -r "$(arb_jq_header airudder-dlq-attempts)")" "dlq attempts"
arb_assert_eq "desk refused it (HTTP 400)" "$(printf '%s' "$letter" | jq -r "$(arb_jq_header airudder-dlq-reason)")" "dlq reason"
arb_assert_eq refused-1 "$(printf '%s' "$letter" | jq -r "$(arb_jq_header airudder-msg-id)")" "the record's own headers are kept"
arb_assert_eq refused "$(printf '%s' "$letter" | jq -r .key)" "keyed by call_id"
origin=$(printf '%s' "$letter" | jq -r "$(arb_jq_header airudder-dlq-origin)")
partition=$(printf '%s' "$origin" | cut -d/ -f2)
offset=$(printf '%s' "$origin" | cut -d/ -f3)
arb_assert_eq "$messages" "$(printf '%s' "$origin" | cut -d/ -f1)" "dlq origin topic"
original=$(kcat -b "$(arb_bootstrap)" -C -t "$messages" -p "$partition" -o "$offset" -c 1 -e -q -f '%s')
arb_assert_eq "$original" "$(printf '%s' "$letter" | jq -r .payload)" "the dead letter is the original record, whole"
arb_assert_eq 1 "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="deadletter"}')" "metrics: one dead letter"
arb_stop replay || arb_fail "replay did not exit 0"

# 2. Out of retry time: the desk answers 503 forever, max_retry_s = 2.
arb_start_desk down --fail-first 1000000 --fail-status 503
arb_replay_conf "$tmp/replay2.conf" "$messages" "$deadletter" "$(arb_unique group)" \
    "max_retry_s = 2;" "retry_base_ms = 100;" "retry_cap_ms = 500;"
arb_event exhausted 1 "$tmp/exhausted.json"
arb_post "$tmp/exhausted.json"
started=$(date +%s)
arb_bg replay2 "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay2.conf"
# The new group reads the topic from the beginning: 3 records of "refused" (the 400 one is
# refused again by nobody: this desk fails everything) and 1 of "exhausted", all dead-lettered.
letters=$(arb_consume "$deadletter" 5 60) || arb_fail "the exhausted records were not dead-lettered"
elapsed=$(($(date +%s) - started))
last=$(printf '%s\n' "$letters" | jq -s -c 'map(select(.key == "exhausted")) | last')
arb_assert_eq 503 "$(printf '%s' "$last" | jq -r "$(arb_jq_header airudder-dlq-status)")" "exhausted: last status"
printf '%s' "$last" | jq -r "$(arb_jq_header airudder-dlq-reason)" | grep -q '^gave up after [0-9]* attempts in [0-9]* s (HTTP 503)$' ||
    arb_fail "exhausted: reason $(printf '%s' "$last" | jq -r "$(arb_jq_header airudder-dlq-reason)")"
attempts=$(printf '%s' "$last" | jq -r "$(arb_jq_header airudder-dlq-attempts)")
[ "$attempts" -gt 2 ] || arb_fail "exhausted after only $attempts attempts"
[ "$elapsed" -ge 2 ] || arb_fail "dead-lettered after $elapsed s, before max_retry_s"
echo "ok: exhausted after $attempts attempts, ${elapsed} s"
arb_stop replay2 || arb_fail "replay2 did not exit 0"
arb_pass "replay: refused and exhausted records dead-lettered whole, with their headers; the conversation goes on"
