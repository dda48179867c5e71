#!/bin/sh
# The replay when Kafka goes away: /readyz says 503 kafka_unreachable, the process keeps
# running, and once the broker is back /readyz is 200 again and new records are delivered.
# Uses a broker of its own, since it stops it.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
arb_own_broker

arb_start_desk desk
ARB_KAFKA_PROPERTIES="session_timeout_ms = 6000; heartbeat_interval_ms = 1000;"
arb_replay_conf "$tmp/replay.conf" airudder.messages airudder.deadletter "$(arb_unique group)"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_wait_ready "$ARB_ADMIN_URL/readyz" 30

"$ARB_KAFKA_SH" stop "$ARB_KAFKA_DIR" || arb_fail "cannot stop the broker"
deadline=$(($(date +%s) + 15))
until [ "$(curl -s "$ARB_ADMIN_URL/readyz")" = '{"status":"kafka_unreachable"}' ]; do
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "/readyz did not report Kafka down: $(curl -s "$ARB_ADMIN_URL/readyz")"
    sleep 0.2
done
echo "ok: /readyz 503 kafka_unreachable"
arb_assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$ARB_ADMIN_URL/healthz")" "/healthz still 200"

"$ARB_KAFKA_SH" start "$ARB_KAFKA_DIR" || arb_fail "cannot restart the broker"
arb_wait_ready "$ARB_ADMIN_URL/readyz" 60
arb_start_bridge airudder.messages airudder.deadletter
arb_event after 3 "$tmp/event.json"
arb_post "$tmp/event.json"
arb_wait_lines "$tmp/desk.out" 3 60
arb_assert_eq '["after-0","after-1","after-2"]' "$(jq -s -c '[.[].event.messages[0].msg_id]' "$tmp/desk.out")" "delivered after Kafka came back"
arb_stop replay || arb_fail "replay did not exit 0"
arb_pass "replay: /readyz follows Kafka, delivery resumes after the broker returns"
