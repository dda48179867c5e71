#!/bin/sh
# /metrics of both binaries: valid Prometheus text (promtool check metrics), and counters that
# move by exactly the known traffic: events, records, refusals, deliveries, attempts; the
# replay's lag back to 0 once everything is delivered.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

command -v promtool >/dev/null || arb_fail "promtool is missing (Debian package prometheus)"
tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
arb_start_bridge "$messages" "$deadletter"
bridge_metrics=${ARB_BRIDGE_URL%/v1/events}/metrics
arb_start_desk desk
arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$(arb_unique group)"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_wait_ready "$ARB_ADMIN_URL/readyz"

check() { # check URL NAME: promtool accepts the page
    curl -s "$1" >"$tmp/$2.prom"
    promtool check metrics <"$tmp/$2.prom" >"$tmp/$2.lint" 2>&1 || arb_fail "promtool: $2: $(cat "$tmp/$2.lint")"
    echo "ok: promtool accepts $2's /metrics"
}
check "$bridge_metrics" bridge
check "$ARB_ADMIN_URL/metrics" replay

ok200='airudder_bridge_requests_total{path="/v1/events",code="200"}'
ok401='airudder_bridge_requests_total{path="/v1/events",code="401"}'
records='airudder_bridge_records_total{result="ok"}'
durations=airudder_bridge_request_duration_seconds_count
delivered='airudder_replay_deliveries_total{result="ok"}'
attempts=airudder_replay_attempts_total
for name in "$ok200" "$ok401" "$records" "$durations"; do
    arb_metric "$bridge_metrics" "$name" >"$tmp/before.$(printf '%s' "$name" | cksum | cut -d' ' -f1)"
done
for name in "$delivered" "$attempts"; do
    arb_metric "$ARB_ADMIN_URL/metrics" "$name" >"$tmp/before.$(printf '%s' "$name" | cksum | cut -d' ' -f1)"
done
# grew URL NAME BY: the sample grew by exactly BY since "before"
grew() {
    before=$(cat "$tmp/before.$(printf '%s' "$2" | cksum | cut -d' ' -f1)")
    arb_assert_eq $((before + $3)) "$(arb_metric "$1" "$2")" "$2 grew by $3"
}

for c in 1 2 3 4 5; do
    arb_event "metrics-$c" 3 "$tmp/event.json"
    arb_post "$tmp/event.json"
done
curl -s -o /dev/null -H 'Content-Type: application/json' -H 'X-AIRudder-Sign: 00' \
    --data-binary "@$tmp/event.json" "$ARB_BRIDGE_URL"
arb_wait_lines "$tmp/desk.out" 15 60
sleep 0.5

grew "$bridge_metrics" "$ok200" 5
grew "$bridge_metrics" "$ok401" 1
grew "$bridge_metrics" "$records" 15
grew "$bridge_metrics" "$durations" 6
grew "$ARB_ADMIN_URL/metrics" "$delivered" 15
grew "$ARB_ADMIN_URL/metrics" "$attempts" 15
arb_assert_eq 0 "$(arb_metric "$bridge_metrics" airudder_bridge_requests_in_flight)" "bridge: nothing in flight"
arb_assert_eq 0 "$(arb_metric "$bridge_metrics" airudder_bridge_producer_queue_depth)" "bridge: producer queue empty"
arb_assert_eq 0 "$(arb_metric "$ARB_ADMIN_URL/metrics" airudder_replay_records_held)" "replay: nothing held"

# The lag of every partition returns to 0 (refreshed every second).
deadline=$(($(date +%s) + 10))
until curl -s "$ARB_ADMIN_URL/metrics" | awk '/^airudder_replay_lag_records/ { n++; if ($2 != 0) bad = 1 } END { exit !(n == 3 && !bad) }'; do
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "lag not back to 0: $(curl -s "$ARB_ADMIN_URL/metrics" | grep '^airudder_replay_lag')"
    sleep 0.5
done
echo "ok: lag 0 on the three partitions"

check "$bridge_metrics" bridge-after
check "$ARB_ADMIN_URL/metrics" replay-after
arb_pass "metrics: valid for promtool, counters match the traffic"
