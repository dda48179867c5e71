#!/bin/sh
# Overload is refused early, so memory stays bounded: beyond http.max_in_flight requests in
# progress, or http.max_in_flight_bytes of their bodies, a new event is answered 503
# "overloaded" with Retry-After before its body is read; capacity comes back when they end.
# A slow upload (curl --limit-rate) keeps one request in progress.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
seed=$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
head -c 62000 /dev/zero | tr '\0' ' ' >"$tmp/slow.json"

post() { # post NAME FILE: the file signed; status and body in $tmp/NAME.*
    curl -s -o "$tmp/$1.body" -D "$tmp/$1.headers" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "X-AIRudder-Sign: $(arb_sign "$2" "$ARB_SIGN_SECRET")" --data-binary "@$2" "$ARB_BRIDGE_URL" >"$tmp/$1.status"
}
slow_upload() { # a request whose 62000-byte body takes about a minute to arrive
    arb_bg slow curl -s -o /dev/null --limit-rate 1k -H 'Content-Type: application/json' \
        --data-binary "@$tmp/slow.json" "$ARB_BRIDGE_URL"
    sleep 1
}
expect_overloaded() {
    arb_assert_eq 503 "$(cat "$tmp/$1.status")" "$1: status"
    arb_assert_eq overloaded "$(jq -r .error "$tmp/$1.body")" "$1: error"
    grep -qi '^Retry-After: [0-9]' "$tmp/$1.headers" || arb_fail "$1: no Retry-After"
}

# 1. One request in progress at most.
ARB_BRIDGE_SETTINGS=''
arb_start_bridge "$messages" "$deadletter"
sed -i 's/^http = { \(.*\) };/http = { \1 max_in_flight = 1; max_body_bytes = 200000; };/' "$tmp/bridge.conf"
arb_stop bridge >/dev/null || arb_fail "bridge did not stop"
arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/bridge.conf"
arb_wait_ready "${ARB_BRIDGE_URL%/v1/events}/readyz"
post alone "$seed"
arb_assert_eq 200 "$(cat "$tmp/alone.status")" "one request at a time is fine"
slow_upload
post second "$seed"
expect_overloaded second
arb_stop slow >/dev/null 2>&1 || true
sleep 0.5
post after "$seed"
arb_assert_eq 200 "$(cat "$tmp/after.status")" "capacity is back once the slow request ended"
arb_stop bridge || arb_fail "bridge did not exit 0"

# 2. 65536 bytes of bodies in progress at most: the slow 62000 bytes leave room for a small
# event, not for the seed (5365 bytes).
sed -i 's/max_in_flight = 1; max_body_bytes = 200000;/max_body_bytes = 200000; max_in_flight_bytes = 65536;/' "$tmp/bridge.conf"
arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/bridge.conf"
arb_wait_ready "${ARB_BRIDGE_URL%/v1/events}/readyz"
arb_event small 1 "$tmp/small.json"
slow_upload
post big "$seed"
expect_overloaded big
post small "$tmp/small.json"
arb_assert_eq 200 "$(cat "$tmp/small.status")" "a small event still fits"
arb_stop slow >/dev/null 2>&1 || true
sleep 0.5
post seed "$seed"
arb_assert_eq 200 "$(cat "$tmp/seed.status")" "bytes are given back once the slow request ended"
arb_assert_eq 0 "$(arb_metric "${ARB_BRIDGE_URL%/v1/events}/metrics" airudder_bridge_requests_in_flight)" "nothing left in progress"
arb_stop bridge || arb_fail "bridge did not exit 0"
arb_pass "bridge: overload answered 503 early, by requests and by bytes in progress"
