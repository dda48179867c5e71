#!/bin/sh
# Overload is refused early, so memory stays bounded: beyond http.max_in_flight authenticated
# requests in progress, or http.max_in_flight_bytes of their records, a new event is answered
# 503 "overloaded" with Retry-After; capacity comes back when they end. Only requests whose
# sender was authenticated count: a slow unsigned upload holds nothing (it is bounded by
# http.max_unverified_bytes and the body deadline instead). linger.ms = 2000 keeps a request
# waiting for Kafka for two seconds, long enough to be overlapped.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
head -c 50000 /dev/zero | tr '\0' ' ' >"$tmp/slow.json"

post() { # post NAME FILE: the file signed; status and body in $tmp/NAME.*
    curl -s -o "$tmp/$1.body" -D "$tmp/$1.headers" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "X-AIRudder-Sign: $(arb_sign "$2" "$ARB_SIGN_SECRET")" --data-binary "@$2" "$ARB_BRIDGE_URL" >"$tmp/$1.status"
}
post_bg() { # post_bg NAME FILE: post in the background, await it with arb_stop NAME
    arb_bg "$1" curl -s -o "$tmp/$1.body" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "X-AIRudder-Sign: $(arb_sign "$2" "$ARB_SIGN_SECRET")" --data-binary "@$2" "$ARB_BRIDGE_URL"
}
in_flight() {
    arb_metric "${ARB_BRIDGE_URL%/v1/events}/metrics" airudder_bridge_requests_in_flight
}
await_in_flight() { # await_in_flight N: until N authenticated requests are in progress
    i=0
    until [ "$(in_flight)" = "$1" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || arb_fail "never $1 request(s) in flight"; sleep 0.05
    done
}
expect_overloaded() {
    arb_assert_eq 503 "$(cat "$tmp/$1.status")" "$1: status"
    arb_assert_eq overloaded "$(jq -r .error "$tmp/$1.body")" "$1: error"
    grep -qi '^Retry-After: [0-9]' "$tmp/$1.headers" || arb_fail "$1: no Retry-After"
}
await_bg() { # await_bg NAME: until the background post has its answer (its status in its log)
    wait "$(arb_pid "$1")" || true
}
status_of() { # status_of NAME: the status curl wrote for a background post (in its log)
    tr -d '\n' <"$tmp/$1.log"
}

ARB_BRIDGE_KAFKA_PROPERTIES='linger_ms = 2000;'
arb_start_bridge "$messages" "$deadletter"
sed -i 's/^http = { \(.*\) };/http = { \1 max_in_flight = 1; max_body_bytes = 60000; max_unverified_bytes = 65536; max_in_flight_bytes = 65536; max_record_bytes = 65536; };/' \
    "$tmp/bridge.conf"
arb_stop bridge >/dev/null 2>&1 || true
arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/bridge.conf"
arb_wait_ready "${ARB_BRIDGE_URL%/v1/events}/readyz"

# 1. One authenticated request in progress at most.
arb_event first 7 "$tmp/first.json"
arb_event second 7 "$tmp/second.json"
arb_event after 7 "$tmp/after.json"
post_bg first "$tmp/first.json"
await_in_flight 1
post second "$tmp/second.json"
expect_overloaded second
await_bg first
arb_assert_eq 200 "$(status_of first)" "the request in progress is answered"
post after "$tmp/after.json"
arb_assert_eq 200 "$(cat "$tmp/after.status")" "capacity is back once it ended"

# 2. A slow unsigned upload takes no slot: a signed event still goes through.
arb_bg slow curl -s -o /dev/null --limit-rate 1k -H 'Content-Type: application/json' \
    --data-binary "@$tmp/slow.json" "$ARB_BRIDGE_URL"
arb_event beside 7 "$tmp/beside.json"
post beside "$tmp/beside.json"
arb_assert_eq 200 "$(cat "$tmp/beside.status")" "a slow unsigned upload holds no slot"
arb_stop slow >/dev/null 2>&1 || true

# 3. 65536 bytes of records in progress at most: one event of 100 messages (about 54 KB of
# records) leaves no room for another, but a small one fits beside it.
sed -i 's/max_in_flight = 1;/max_in_flight = 100;/' "$tmp/bridge.conf"
arb_stop bridge >/dev/null 2>&1 || true
arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/bridge.conf"
arb_wait_ready "${ARB_BRIDGE_URL%/v1/events}/readyz"
arb_event big1 100 "$tmp/big1.json"
arb_event big2 100 "$tmp/big2.json"
arb_event small 1 "$tmp/small.json"
post_bg big1 "$tmp/big1.json"
await_in_flight 1
post big2 "$tmp/big2.json"
expect_overloaded big2
post small "$tmp/small.json"
arb_assert_eq 200 "$(cat "$tmp/small.status")" "a small event still fits"
await_bg big1
arb_assert_eq 200 "$(status_of big1)" "the big request in progress is answered"
post big2 "$tmp/big2.json"
arb_assert_eq 200 "$(cat "$tmp/big2.status")" "bytes are given back once it ended"
arb_assert_eq 0 "$(in_flight)" "nothing left in progress"
arb_stop bridge || arb_fail "bridge did not exit 0"
arb_pass "bridge: overload answered 503 early, by authenticated requests and by record bytes"
