#!/bin/sh
# The delivery log: one record per delivery outcome in delivery_log.topic, keyed by call_id,
# naming the source record, its Idempotency-Key, attempts, the final status and the desk's
# last answer, with times. A desk refusing one message makes that one dead-lettered in the
# log. A delivery log Kafka will not take (its topic does not exist) changes nothing for the
# deliveries: every record still reaches the desk, the failures are counted and logged, and
# the replay stops promptly.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
deliveries=$(arb_unique deliveries)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
arb_topic_create "$deliveries" 3
arb_start_bridge "$messages" "$deadletter"
arb_start_desk desk --reject-msg-id dlog-1 --reject-status 422

arb_event dlog 3 "$tmp/event.json"
arb_post "$tmp/event.json"
request_id=$(sha256sum "$tmp/event.json" | cut -c1-32)

arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$(arb_unique group)"
printf 'delivery_log = { topic = "%s"; };\n' "$deliveries" >>"$tmp/replay.conf"
"$ARB_BUILD_DIR/airudder-replay" -t -c "$tmp/replay.conf" >/dev/null || arb_fail "replay -t rejected its config"
started=$(date +%s%3N)
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
log=$(arb_consume "$deliveries" 3 60) || arb_fail "no delivery log records"
ended=$(date +%s%3N)

printf '%s\n' "$log" | jq -c '.payload | fromjson' >"$tmp/log.jsonl"
arb_assert_eq '["dlog"]' "$(printf '%s\n' "$log" | jq -s -c '[.[].key] | unique')" "keyed by call_id"
arb_assert_eq '[1]' "$(jq -s -c '[.[].v] | unique' "$tmp/log.jsonl")" "version 1"
arb_assert_eq '["dlog-0","dlog-1","dlog-2"]' "$(jq -s -c '[.[].msg_id] | sort' "$tmp/log.jsonl")" "one record per message"
arb_assert_eq '["service"]' "$(jq -s -c '[.[].mode] | unique' "$tmp/log.jsonl")" "written by the service"

for i in 0 1 2; do
    line=$(jq -c --arg id "dlog-$i" 'select(.msg_id == $id)' "$tmp/log.jsonl")
    arb_assert_eq "$messages" "$(printf '%s' "$line" | jq -r .topic)" "dlog-$i: source topic"
    arb_assert_eq "$request_id:$i" "$(printf '%s' "$line" | jq -r .idempotency_key)" "dlog-$i: Idempotency-Key"
    arb_assert_eq 1 "$(printf '%s' "$line" | jq -r .attempts)" "dlog-$i: attempts"
    # The source position holds that very message.
    part=$(printf '%s' "$line" | jq -r .partition)
    offset=$(printf '%s' "$line" | jq -r .offset)
    source=$(kcat -b "$(arb_bootstrap)" -C -t "$messages" -p "$part" -o "$offset" -c 1 -e -q -f '%s')
    arb_assert_eq "dlog-$i" "$(printf '%s' "$source" | jq -r .message.msg_id)" "dlog-$i: origin $part/$offset"
    # first attempt <= last attempt <= done, all within the run
    printf '%s' "$line" | jq -e --argjson a "$started" --argjson b "$ended" \
        '.first_attempt_at >= $a and .first_attempt_at <= .last_attempt_at and
         .last_attempt_at <= .done_at and .done_at <= $b' >/dev/null ||
        arb_fail "dlog-$i: times out of order or out of the run: $line"
done
delivered='select(.msg_id != "dlog-1")'
arb_assert_eq '["delivered"]' "$(jq -s -c "[.[] | $delivered | .status] | unique" "$tmp/log.jsonl")" "delivered ones"
arb_assert_eq '[200]' "$(jq -s -c "[.[] | $delivered | .desk_status] | unique" "$tmp/log.jsonl")" "desk's 200"
refused=$(jq -c 'select(.msg_id == "dlog-1")' "$tmp/log.jsonl")
arb_assert_eq dead-lettered "$(printf '%s' "$refused" | jq -r .status)" "dlog-1 dead-lettered"
arb_assert_eq 422 "$(printf '%s' "$refused" | jq -r .desk_status)" "dlog-1: the desk's status"
arb_assert_eq "desk refused it (HTTP 422)" "$(printf '%s' "$refused" | jq -r .reason)" "dlog-1: reason"
outcome=$(printf '%s\n' "$log" | jq -r "select(.payload | fromjson | .msg_id == \"dlog-1\") | $(arb_jq_header airudder-outcome)")
arb_assert_eq dead-lettered "$outcome" "airudder-outcome header"
arb_assert_eq 2 "$(arb_lines "$tmp/desk.out")" "two messages at the desk"

metric='airudder_replay_delivery_log_records_total{result="written"}'
deadline=$(($(date +%s) + 20))
until [ "$(arb_metric "$ARB_ADMIN_URL/metrics" "$metric")" = 3 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "metrics: $metric is $(arb_metric "$ARB_ADMIN_URL/metrics" "$metric")"
    sleep 0.2
done
echo "ok: metrics count 3 written"
arb_stop replay || arb_fail "replay did not exit 0"
arb_assert_eq 3 "$(arb_topic_count "$deliveries")" "nothing more in the delivery log"

# A delivery log that cannot be written: the deliveries go on as if it were not there.
ARB_KAFKA_PROPERTIES='topic_metadata_propagation_max_ms = 1000;'
arb_replay_conf "$tmp/replay2.conf" "$messages" "$deadletter" "$(arb_unique group)"
printf 'delivery_log = { topic = "%s"; };\n' "$(arb_unique missing)" >>"$tmp/replay2.conf"
arb_bg replay2 "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay2.conf"
arb_wait_lines "$tmp/desk.out" 4 60
failed='airudder_replay_delivery_log_records_total{result="failed"}'
deadline=$(($(date +%s) + 30))
until [ "$(arb_metric "$ARB_ADMIN_URL/metrics" "$failed")" = 3 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "metrics: $failed is $(arb_metric "$ARB_ADMIN_URL/metrics" "$failed")"
    sleep 0.2
done
echo "ok: three records the delivery log could not write, counted"
arb_assert_eq 2 "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="ok"}')" "both deliveries made"
arb_assert_eq 1 "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="deadletter"}')" "the refused one dead-lettered"
grep -q 'delivery log record not written' "$tmp/replay2.log" || arb_fail "the failure was not logged"
[ "$(grep -c 'delivery log record not written' "$tmp/replay2.log")" -eq 1 ] ||
    arb_fail "failures logged more than once within the interval"
echo "ok: logged once"
stop_started=$(date +%s)
arb_stop replay2 || arb_fail "replay2 did not exit 0"
[ $(($(date +%s) - stop_started)) -le 5 ] || arb_fail "the stop took more than 5 s"
arb_pass "delivery log: one record per outcome, dead letters with the desk's answer; its failures never hold up a delivery"
