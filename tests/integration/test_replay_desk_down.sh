#!/bin/sh
# The desk is down (not even listening) for longer than the consumer group's session
# timeout: the replay keeps polling (its buffer full, the partitions filling it paused, its
# requests retried, never blocked), stays in its group (no rebalance), says so on /readyz,
# and delivers everything, in order and once, when the desk comes back.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
group=$(arb_unique group)
session_s=6
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
arb_start_bridge "$messages" "$deadletter"
arb_start_desk desk
# A short session so that "longer than the session timeout" fits in a test.
ARB_KAFKA_PROPERTIES="session_timeout_ms = $((session_s * 1000)); heartbeat_interval_ms = 1000;"
ARB_REPLAY_SETTINGS="max_buffered = 16;" # 80 records: the buffer fills up
arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$group" \
    "max_retry_s = 600;" "retry_base_ms = 100;" "retry_cap_ms = 1000;" "timeout_ms = 1000;"

arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_wait_ready "$ARB_ADMIN_URL/readyz" 30

kill -USR1 "$(arb_pid desk)" # the desk stops listening
sleep 1
conversations="a b c d e f g h i j k l m n o p q r s t"
for c in $conversations; do
    arb_event "down-$c" 4 "$tmp/down-$c.json"
    arb_post "$tmp/down-$c.json"
done
sleep $((2 * session_s))
code=$(curl -s -o "$tmp/readyz.body" -w '%{http_code}' "$ARB_ADMIN_URL/readyz")
arb_assert_eq 503 "$code" "/readyz while the desk is down"
arb_assert_eq '{"status":"desk_unreachable"}' "$(cat "$tmp/readyz.body")" "/readyz says why"
arb_assert_eq 0 "$(arb_lines "$tmp/desk.out")" "nothing delivered while the desk is down"
retries=$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="retry"}')
[ "$retries" -gt 3 ] || arb_fail "only $retries retries while the desk was down"
echo "ok: $retries retries while the desk was down"
paused=$(arb_metric "$ARB_ADMIN_URL/metrics" airudder_replay_paused_partitions)
[ "$paused" -gt 0 ] || arb_fail "the full buffer did not pause any partition"
held=$(arb_metric "$ARB_ADMIN_URL/metrics" airudder_replay_records_held)
# max_buffered, plus what librdkafka had fetched for a partition before it was paused.
if [ "$held" -lt 16 ] || [ "$held" -gt 40 ]; then
    arb_fail "$held of 80 records held with max_buffered = 16"
fi
echo "ok: buffer full ($held of 80 held), $paused partitions paused"

kill -USR2 "$(arb_pid desk)" # and comes back
arb_wait_lines "$tmp/desk.out" 80 60
sleep 0.5
arb_assert_eq 80 "$(arb_lines "$tmp/desk.out")" "80 deliveries once the desk is back"
arb_assert_eq 80 "$(jq -r .idempotency_key "$tmp/desk.out" | sort -u | wc -l)" "each record once"
for c in $conversations; do
    arb_assert_eq "[\"down-$c-0\",\"down-$c-1\",\"down-$c-2\",\"down-$c-3\"]" \
        "$(jq -s -c --arg call "down-$c" '[.[] | select(.event.call_id == $call) | .event.messages[0].msg_id]' "$tmp/desk.out")" \
        "conversation $c in order"
done
# Stayed in the group the whole time: one assignment, no revocation.
arb_assert_eq 1 "$(grep -c 'partitions assigned' "$tmp/replay.log")" "assigned once"
arb_assert_eq 0 "$(grep -c 'partitions revoked' "$tmp/replay.log")" "never revoked while the desk was down"
arb_wait_ready "$ARB_ADMIN_URL/readyz" 10
arb_assert_eq 0 "$(arb_topic_count "$deadletter")" "nothing dead-lettered"
arb_stop replay || arb_fail "replay did not exit 0"
arb_pass "replay: stayed in its group through a desk outage of $((2 * session_s)) s, then delivered everything once, in order"
