#!/bin/sh
# The logs, at debug level, in JSON: every line is one JSON object with ts, level and msg;
# librdkafka's own lines come through the same logger; the bridge writes an access line per
# event request with status, bytes, duration, call_id and request id; and no secret and no
# signature value appears anywhere, in either binary's log, even at debug level.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
arb_start_bridge "$messages" "$deadletter"
# Same bridge, at debug level and in JSON, with librdkafka's generic debug context on (its
# debug lines are routed through the same logger).
sed -i -e 's/^log = .*/log = { level = "debug"; format = "json"; };/' \
    -e 's/^kafka = { \(.*\) };/kafka = { \1 properties = { debug = "generic"; }; };/' "$tmp/bridge.conf"
grep -q 'debug = "generic"' "$tmp/bridge.conf" || arb_fail "could not set librdkafka's debug context"
arb_stop bridge >/dev/null || arb_fail "bridge did not stop"
: >"$tmp/bridge.log"
arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/bridge.conf"
arb_wait_ready "${ARB_BRIDGE_URL%/v1/events}/readyz"
arb_start_desk desk
ARB_KAFKA_PROPERTIES='debug = "generic";'
arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$(arb_unique group)"
sed -i 's/^log = .*/log = { level = "debug"; format = "json"; };/' "$tmp/replay.conf"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"

seed=$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json
arb_post "$seed"
wrong=$(arb_sign "$seed" not-the-secret)
curl -s -o /dev/null -H 'Content-Type: application/json' -H "X-AIRudder-Sign: $wrong" \
    --data-binary "@$seed" "$ARB_BRIDGE_URL"
arb_wait_lines "$tmp/desk.out" 7 60
arb_stop replay || arb_fail "replay did not exit 0"
arb_stop bridge || arb_fail "bridge did not exit 0"

for log in bridge replay; do
    jq -s -e 'all(.[]; (.ts | type) == "string" and (.level | IN("error", "warn", "info", "debug")) and (.msg | type) == "string")' \
        "$tmp/$log.log" >/dev/null || arb_fail "$log: a line is not JSON with ts, level and msg"
    grep -q '"component":"librdkafka"' "$tmp/$log.log" || arb_fail "$log: no librdkafka line at debug level"
    grep -q '"level":"debug"' "$tmp/$log.log" || arb_fail "$log: nothing at debug level"
    echo "ok: $log: $(wc -l <"$tmp/$log.log") JSON lines, librdkafka's among them"
done

access=$(jq -c 'select(.msg == "request" and .status == "200")' "$tmp/bridge.log")
[ -n "$access" ] || arb_fail "no access line for the 200"
arb_assert_eq "$(sha256sum "$seed" | cut -c1-32)" "$(printf '%s' "$access" | jq -r .request_id)" "access line: request id"
arb_assert_eq 66b4d7507d5a6618497600326f7b064b "$(printf '%s' "$access" | jq -r .call_id)" "access line: call_id"
arb_assert_eq "$(wc -c <"$seed" | tr -d ' ')" "$(printf '%s' "$access" | jq -r .bytes)" "access line: bytes"
printf '%s' "$access" | jq -e '.duration_ms | tonumber > 0' >/dev/null || arb_fail "access line: duration"
jq -s -e 'any(.[]; .msg == "signature rejected" and .reason == "signature does not match")' "$tmp/bridge.log" >/dev/null ||
    arb_fail "the refusal's reason is not logged"

# Secrets and signatures: the bridge's secret and the signatures it saw; the desk's secret and
# the signatures the replay computed (over the bodies the desk recorded).
jq -c .event "$tmp/desk.out" | while read -r body; do
    printf '%s' "$body" >"$tmp/body"
    arb_sign "$tmp/body" "$DESK_SIGN_SECRET"
done >"$tmp/signatures"
arb_sign "$seed" "$ARB_SIGN_SECRET" >>"$tmp/signatures"
printf '%s\n' "$wrong" >>"$tmp/signatures"
arb_assert_eq 9 "$(sort -u "$tmp/signatures" | wc -l)" "nine signature values to look for"
for log in bridge replay; do
    for secret in "$ARB_SIGN_SECRET" "$DESK_SIGN_SECRET"; do
        grep -F -q "$secret" "$tmp/$log.log" && arb_fail "$log: a secret appears in the log"
    done
    grep -F -q -f "$tmp/signatures" "$tmp/$log.log" && arb_fail "$log: a signature appears in the log"
done
echo "ok: no secret and no signature in either log"
arb_pass "logs: JSON lines, librdkafka routed, access lines, nothing secret"
