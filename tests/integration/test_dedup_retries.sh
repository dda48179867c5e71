#!/bin/sh
# Retried webhooks (contract 3a, AIRudder's retries: airudder-events.md 2.4). The same
# bytes posted again after their 200 are answered 200 from the bridge's window and not
# written again. Answered 503 (the bridge's broker stopped), a webhook's records stay with
# the producer: until Kafka has the last word on them its key is in doubt and a retry is
# answered 503 without writing anything; once they are stored, a retry is answered 200 from
# the window. So Kafka holds it once. A copy that went through a second bridge instance,
# which never saw the first, is in Kafka twice: the replay's per-partition window drops the
# second copy, so the desk gets every message once, in order, and the skipped records are
# committed like delivered ones. A debug-mode re-send still delivers every record, both
# copies. Uses a broker of its own (it stops it).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
arb_own_broker
bootstrap=$(arb_bootstrap)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1

# start_bridge NAME: a bridge on a port of its own writing to $messages; sets bridge_url.
start_bridge() {
    port=$(arb_free_port)
    # shellcheck disable=SC2016 # ${ARB_SIGN_SECRET} is for the config loader to expand
    printf '%s\n' "http = { listen = \"127.0.0.1:$port\"; };" \
        'signature = { secrets = [ "${ARB_SIGN_SECRET}" ]; };' \
        "kafka = { bootstrap = \"$bootstrap\"; ack_timeout_ms = 3000; };" \
        "routes = ( { event = \"*\"; topic = \"$messages\"; } );" \
        "deadletter = { topic = \"$deadletter\"; };" \
        'log = { level = "info"; format = "text"; };' >"$tmp/$1.conf"
    arb_bg "$1" "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/$1.conf"
    bridge_url=http://127.0.0.1:$port
    arb_wait_ready "$bridge_url/readyz"
}
# post URL FILE: POST FILE, signed, to URL's events path; print the status.
post() {
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "X-AIRudder-Sign: $(arb_sign "$2" "$ARB_SIGN_SECRET")" --data-binary "@$2" \
        "$1/v1/events" || true
}
# wait_metric URL SAMPLE VALUE: wait (30 s) until the sample of URL's /metrics is VALUE.
wait_metric() {
    deadline=$(($(date +%s) + 30))
    until [ "$(arb_metric "$1/metrics" "$2")" = "$3" ]; do
        [ "$(date +%s)" -lt "$deadline" ] ||
            arb_fail "$2 is $(arb_metric "$1/metrics" "$2"), not $3, after 30 s"
        sleep 0.2
    done
    printf 'ok: %s = %s\n' "$2" "$3"
}

start_bridge bridge_a
bridge_a_url=$bridge_url
arb_event after503 7 "$tmp/after503.json"
arb_event twice 7 "$tmp/twice.json"

# 1. A 503 (Kafka stopped); a retry while its records are in doubt; then retries once Kafka
# is back, until one is answered 200 (from the window, once the records are stored).
answers() { arb_metric "$bridge_a_url/metrics" airudder_bridge_dedup_answers_total; }
"$ARB_KAFKA_SH" stop "$ARB_KAFKA_DIR" || arb_fail "cannot stop the broker"
arb_assert_eq 503 "$(post "$bridge_a_url" "$tmp/after503.json")" "posted while Kafka is down"
arb_assert_eq 503 "$(post "$bridge_a_url" "$tmp/after503.json")" "a retry while in doubt"
arb_assert_eq 1 "$(answers)" "the retry in doubt was answered from the window"
"$ARB_KAFKA_SH" start "$ARB_KAFKA_DIR" || arb_fail "cannot restart the broker"
arb_wait_ready "$bridge_a_url/readyz" 60
deadline=$(($(date +%s) + 60))
until [ "$(post "$bridge_a_url" "$tmp/after503.json")" = 200 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "no 200 for the retries within 60 s"
    sleep 0.5
done
# wait_count N: wait (60 s) until $messages holds N records.
wait_count() {
    deadline=$(($(date +%s) + 60))
    until [ "$(arb_topic_count "$messages")" = "$1" ]; do
        [ "$(date +%s)" -lt "$deadline" ] ||
            arb_fail "$(arb_topic_count "$messages") records in $messages after 60 s, not $1"
        sleep 0.2
    done
    printf 'ok: %s records in %s\n' "$1" "$messages"
}
wait_count 7 # the 503'd copy's 7, which the producer held; the retries wrote none
arb_assert_eq 200 "$(post "$bridge_a_url" "$tmp/after503.json")" "a retry after its 200"
arb_assert_eq 7 "$(arb_topic_count "$messages")" "after503: its records once in Kafka"

# 2. The replay delivers them, then the same webhook twice through bridge A: written once.
arb_start_desk desk
group=$(arb_unique group)
arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$group"
sed 's/level = "info"/level = "debug"/' "$tmp/replay.conf" >"$tmp/replay-debug.conf"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay-debug.conf"
arb_wait_lines "$tmp/desk.out" 7 60
wait_metric "$ARB_ADMIN_URL" airudder_replay_records_held 0
arb_assert_eq 7 "$(arb_lines "$tmp/desk.out")" "after503: at the desk once"
before=$(answers)
arb_assert_eq 200 "$(post "$bridge_a_url" "$tmp/twice.json")" "twice: the first copy"
arb_assert_eq 200 "$(post "$bridge_a_url" "$tmp/twice.json")" "twice: again after its 200"
arb_assert_eq 14 "$(arb_topic_count "$messages")" "twice: its records once in Kafka"
arb_assert_eq $((before + 1)) "$(answers)" "bridge A answered the repeat from its window"
arb_wait_lines "$tmp/desk.out" 14 60

# 3. The same webhook through a second bridge, which never saw it: in Kafka twice, at the
# desk once.
start_bridge bridge_b
bridge_b_url=$bridge_url
arb_assert_eq 200 "$(post "$bridge_b_url" "$tmp/twice.json")" "twice: a third copy, to bridge B"
arb_assert_eq 21 "$(arb_topic_count "$messages")" "bridge B wrote its copy"
wait_metric "$ARB_ADMIN_URL" airudder_replay_dedup_skipped_total 7
wait_metric "$ARB_ADMIN_URL" airudder_replay_records_held 0
arb_assert_eq 14 "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="ok"}')" \
    "the replay delivered 14 records"
arb_assert_eq 14 "$(arb_metric "$ARB_ADMIN_URL/metrics" airudder_replay_dedup_entries)" \
    "its windows hold the 14 keys"
arb_assert_eq 14 "$(arb_lines "$tmp/desk.out")" "the desk got each message once"
arb_assert_eq 14 "$(jq -r .idempotency_key "$tmp/desk.out" | sort -u | wc -l)" "14 distinct Idempotency-Keys"
for call in after503 twice; do
    arb_assert_eq "$(jq -c '[.messages[].msg_id]' "$tmp/$call.json")" \
        "$(jq -s -c --arg call "$call" '[.[] | select(.event.call_id == $call) | .event.messages[0].msg_id]' "$tmp/desk.out")" \
        "$call: at the desk once, in order"
done
arb_assert_eq 7 "$(grep -c 'record already delivered: not sent again' "$tmp/replay.log")" \
    "each skipped record logged at debug"
arb_stop replay || arb_fail "replay did not exit 0 on SIGTERM"
# Skipped records are done: the commit covers all 21.
committed=$(arb_group_offsets "$group" | awk '$3 ~ /^[0-9]+$/ { sum += $3 } END { print sum + 0 }')
arb_assert_eq 21 "$committed" "committed offsets cover the skipped records"

# 4. A debug-mode re-send of the conversation is deliberate: both copies go again.
rc=0
"$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay-debug.conf" --call-id twice \
    >"$tmp/resend.out" 2>"$tmp/resend.err" || rc=$?
arb_assert_eq 0 "$rc" "debug re-send: exit status"
arb_assert_eq 28 "$(arb_lines "$tmp/desk.out")" "debug re-send: 14 more deliveries"
arb_assert_eq 21 "$(jq -s '[.[] | select(.event.call_id == "twice")] | length' "$tmp/desk.out")" \
    "twice: once by the service, both copies by the re-send"
grep -q 'record already delivered' "$tmp/resend.err" && arb_fail "the debug re-send skipped a record"

arb_stop bridge_b || arb_fail "bridge B did not exit 0 on SIGTERM"
arb_stop bridge_a || arb_fail "bridge A did not exit 0 on SIGTERM"
arb_pass "retried webhooks: a repeat after 200 or after a 503 not written; a copy through a second bridge dropped by the replay; debug re-sends not dropped"
