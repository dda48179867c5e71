#!/bin/sh
# The bridge end to end against the real broker: the signed seed event becomes exactly seven
# records in order, keyed by call_id, with the contract's headers and each message equal to
# the original element; every status of the contract's table (except 503, see
# test_bridge_kafka_down.sh) is produced by the real binary, and nothing that is refused
# reaches the messages topic. Invalid but signed bodies are kept whole in the dead letter.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
fixtures=$ARB_SOURCE_DIR/tests/fixtures
seed=$fixtures/channel.message.sent.json
secret=test-secret-$(arb_unique s)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
port=$(arb_free_port)
url=http://127.0.0.1:$port
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1

cat >"$tmp/bridge.conf" <<EOF
http = { listen = "127.0.0.1:$port"; path = "/v1/events"; max_body_bytes = 8192; };
signature = { secrets = [ "\${TEST_SIGN_SECRET}" ]; };
kafka = { bootstrap = "$(arb_bootstrap)"; ack_timeout_ms = 10000; };
routes = ( { event = "*"; topic = "$messages"; } );
deadletter = { topic = "$deadletter"; };
log = { level = "debug"; format = "json"; };
EOF
export TEST_SIGN_SECRET="$secret"

# -t checks the file, and reports every error as file:line.
out=$("$ARB_BUILD_DIR/airudder-bridge" -t -c "$tmp/bridge.conf") || arb_fail "-t rejected a good config"
arb_assert_eq "configuration OK" "$out" "-t on a good config"
printf 'http = { listen = "nowhere"; threads = 99; };\nbogus = 1;\n' >"$tmp/bad.conf"
"$ARB_BUILD_DIR/airudder-bridge" -t -c "$tmp/bad.conf" 2>"$tmp/bad.err" && arb_fail "-t accepted a bad config"
grep -q "^$tmp/bad.conf:1: http.threads" "$tmp/bad.err" || arb_fail "no file:line for http.threads: $(cat "$tmp/bad.err")"
grep -q "^$tmp/bad.conf:2: unknown key 'bogus'" "$tmp/bad.err" || arb_fail "no file:line for the unknown key: $(cat "$tmp/bad.err")"

arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/bridge.conf"
arb_wait_http "$url/healthz"
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || arb_fail "/readyz never became 200"
    sleep 0.1
done

# post NAME FILE [curl args...]: POST FILE to the events path as $ctype; status in
# $tmp/NAME.status, body in $tmp/NAME.body, headers in $tmp/NAME.headers.
ctype=application/json
post() {
    name=$1 file=$2
    shift 2
    curl -s -o "$tmp/$name.body" -D "$tmp/$name.headers" -w '%{http_code}' \
        -H "Content-Type: $ctype" "$@" --data-binary "@$file" \
        "$url/v1/events" >"$tmp/$name.status"
}
signed() { printf 'X-AIRudder-Sign: %s' "$(arb_sign "$1" "$secret")"; }
expect() { # expect NAME STATUS BODY
    arb_assert_eq "$2" "$(cat "$tmp/$1.status")" "$1: status"
    arb_assert_eq "$3" "$(cat "$tmp/$1.body")" "$1: body"
}

# 1. The seed event, signed: 200 {} and seven records.
post seed "$seed" -H "$(signed "$seed")"
expect seed 200 '{}'
request_id=$(sha256sum "$seed" | cut -c1-32)
grep -qi "^X-Request-Id: $request_id" "$tmp/seed.headers" || arb_fail "no X-Request-Id $request_id"

records=$(arb_consume "$messages" 7) || arb_fail "seven records did not arrive"
printf '%s\n' "$records" | jq -s 'sort_by(.offset)' >"$tmp/records.json"
arb_assert_eq 1 "$(jq '[.[].partition] | unique | length' "$tmp/records.json")" "one partition for one call_id"
arb_assert_eq '"66b4d7507d5a6618497600326f7b064b"' "$(jq -c '[.[].key] | unique | .[0]' "$tmp/records.json")" "key is the call_id"
arb_assert_eq '[0,1,2,3,4,5,6]' "$(jq -c '[.[].payload | fromjson | .message_index]' "$tmp/records.json")" "records in array order"
for index in 0 1 2 3 4 5 6; do
    record=$(jq -c ".[$index]" "$tmp/records.json")
    value=$(printf '%s' "$record" | jq -c '.payload | fromjson')
    arb_assert_eq "$(jq -c ".messages[$index]" "$seed")" "$(printf '%s' "$value" | jq -c .message)" "record $index: message equals the original element"
    arb_assert_eq "$(jq -c 'del(.messages)' "$seed")" "$(printf '%s' "$value" | jq -c 'del(.message, .message_index, .message_count, .received_at)')" "record $index: envelope equals the event's"
    arb_assert_eq 7 "$(printf '%s' "$value" | jq .message_count)" "record $index: message_count"
    headers=$(printf '%s' "$record" | jq -c '[.headers as $h | range(0; $h | length; 2) | {key: $h[.], value: $h[. + 1]}] | from_entries')
    expected=$(jq -c --arg rid "$request_id" --argjson i "$index" \
        '{"airudder-event": .event, "airudder-call-id": .call_id, "airudder-msg-id": .messages[$i].msg_id,
          "airudder-sender-type": .messages[$i].sender_type, "airudder-content-type": .messages[$i].content.type,
          "airudder-request-id": $rid}' "$seed")
    arb_assert_eq "$expected" "$(printf '%s' "$headers" | jq -c 'del(."airudder-received-at")')" "record $index: headers"
    received=$(printf '%s' "$headers" | jq -r '."airudder-received-at"')
    arb_assert_eq "$received" "$(printf '%s' "$value" | jq .received_at)" "record $index: received-at header matches the value"
    arb_assert_eq "$received" "$(printf '%s' "$record" | jq .ts)" "record $index: Kafka timestamp is the receipt time"
done
# Non-ASCII text is stored as UTF-8, not escaped.
jq -r '.[1].payload' "$tmp/records.json" | grep -q '欢迎使用 AIRudder' || arb_fail "Chinese text was escaped or lost"
jq -r '.[4].payload' "$tmp/records.json" | grep -q '👉' || arb_fail "emoji was escaped or lost"

# 2. Signature refusals: 401 and nothing written.
post nosig "$seed"
expect nosig 401 '{"error":"invalid_signature"}'
post emptysig "$seed" -H 'X-AIRudder-Sign;'
expect emptysig 401 '{"error":"invalid_signature"}'
post wrongsig "$seed" -H "X-AIRudder-Sign: $(arb_sign "$seed" not-the-secret)"
expect wrongsig 401 '{"error":"invalid_signature"}'
post malformed "$seed" -H 'X-AIRudder-Sign: zz'
expect malformed 401 '{"error":"invalid_signature"}'

# 3. Signed but not JSON: 400, and the raw bytes in the dead letter.
printf '{"event":"channel.message.sent","call_id":' >"$tmp/notjson.json"
post notjson "$tmp/notjson.json" -H "$(signed "$tmp/notjson.json")"
arb_assert_eq 400 "$(cat "$tmp/notjson.status")" "not JSON: status"
arb_assert_eq invalid_json "$(jq -r .error "$tmp/notjson.body")" "not JSON: error"
jq -e '.detail | test("^line 1 column [0-9]+: ")' "$tmp/notjson.body" >/dev/null || arb_fail "not JSON: detail $(cat "$tmp/notjson.body")"

# 4. Signed JSON that breaks the schema: 422 naming the path, kept whole, keyed by call_id.
jq -c '.messages[2].content = 5' "$seed" >"$tmp/schema.json"
post schema "$tmp/schema.json" -H "$(signed "$tmp/schema.json")"
expect schema 422 '{"error":"invalid_event","detail":"messages[2].content: expected object, got integer"}'

letters=$(arb_consume "$deadletter" 2) || arb_fail "dead letters missing"
printf '%s\n' "$letters" | jq -s 'sort_by(.offset)' >"$tmp/letters.json"
arb_assert_eq "$(cat "$tmp/notjson.json")" "$(jq -r '.[0].payload' "$tmp/letters.json")" "dead letter 1 is the raw body"
arb_assert_eq "$(cat "$tmp/schema.json")" "$(jq -r '.[1].payload' "$tmp/letters.json")" "dead letter 2 is the raw body"
arb_assert_eq null "$(jq -c '.[0].key' "$tmp/letters.json")" "dead letter 1 has no call_id to key by"
arb_assert_eq '"66b4d7507d5a6618497600326f7b064b"' "$(jq -c '.[1].key' "$tmp/letters.json")" "dead letter 2 keyed by call_id"
arb_assert_eq '"bridge"' "$(jq -c ".[1] | $(arb_jq_header airudder-dlq-source)" "$tmp/letters.json")" "dead letter source header"
arb_assert_eq '"messages[2].content: expected object, got integer"' "$(jq -c ".[1] | $(arb_jq_header airudder-dlq-reason)" "$tmp/letters.json")" "dead letter reason header"

# 5. Everything refused before Kafka: 404, 405 (with Allow), 415, 413 (declared and chunked).
code=$(curl -s -o "$tmp/nf.body" -w '%{http_code}' "$url/nope")
arb_assert_eq 404 "$code" "unknown path"
arb_assert_eq '{"error":"not_found"}' "$(cat "$tmp/nf.body")" "unknown path: body"
curl -s -o /dev/null -D "$tmp/get.headers" "$url/v1/events"
grep -q '^HTTP/1.1 405' "$tmp/get.headers" || arb_fail "GET on the events path is not 405"
grep -qi '^Allow: POST' "$tmp/get.headers" || arb_fail "405 without Allow: POST"
curl -s -o /dev/null -D "$tmp/posthealth.headers" -X POST "$url/healthz"
grep -q '^HTTP/1.1 405' "$tmp/posthealth.headers" || arb_fail "POST /healthz is not 405"
grep -qi '^Allow: GET' "$tmp/posthealth.headers" || arb_fail "405 without Allow: GET"
ctype=text/plain
post textplain "$seed" -H "$(signed "$seed")"
expect textplain 415 '{"error":"unsupported_media_type","detail":"Content-Type must be application/json"}'
ctype='application/json; charset=utf-8'
post charset "$seed" -H "$(signed "$seed")"
expect charset 200 '{}'
ctype=application/json
head -c 9000 /dev/zero | tr '\0' ' ' >"$tmp/big.json"
post big "$tmp/big.json" -H "$(signed "$tmp/big.json")"
expect big 413 '{"error":"body_too_large"}'
post bigchunked "$tmp/big.json" -H "$(signed "$tmp/big.json")" -H 'Transfer-Encoding: chunked'
expect bigchunked 413 '{"error":"body_too_large"}'

# 6. Expect: 100-continue is honoured, and refused early when the declared size is too big.
curl -s -v -o /dev/null -H 'Content-Type: application/json' -H 'Expect: 100-continue' \
    -H "$(signed "$seed")" --data-binary "@$seed" "$url/v1/events" 2>"$tmp/continue.err"
grep -q '^< HTTP/1.1 100 Continue' "$tmp/continue.err" || arb_fail "no 100 Continue"
grep -q '^< HTTP/1.1 200' "$tmp/continue.err" || arb_fail "no 200 after 100 Continue"
curl -s -v -o /dev/null -H 'Content-Type: application/json' -H 'Expect: 100-continue' \
    --data-binary "@$tmp/big.json" "$url/v1/events" 2>"$tmp/nocontinue.err"
grep -q '^< HTTP/1.1 100 Continue' "$tmp/nocontinue.err" && arb_fail "100 Continue sent for a body over the limit"
grep -q '^< HTTP/1.1 413' "$tmp/nocontinue.err" || arb_fail "no 413 for a declared body over the limit"

# 7. Keep-alive: three events on one connection.
connects=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
    -H 'Content-Type: application/json' -H "$(signed "$seed")" --data-binary "@$seed" \
    "$url/v1/events" "$url/v1/events" "$url/v1/events" | tr '\n' ' ')
arb_assert_eq "1 0 0 " "$connects" "three requests over one connection"

# 8. Exactly what was accepted is in the topic: the seed once. Its five repeats (charset,
# continue, three over one connection) were answered 200 from the dedup window, not written.
arb_assert_eq 7 "$(arb_topic_count "$messages")" "records in $messages (6 accepted copies of one event)"
arb_assert_eq 2 "$(arb_topic_count "$deadletter")" "records in $deadletter"

# 9. Metrics count what happened.
curl -s "$url/metrics" >"$tmp/metrics.txt"
grep -q '^airudder_bridge_requests_total{path="/v1/events",code="200"} 6$' "$tmp/metrics.txt" || arb_fail "metrics: 200s"
grep -q '^airudder_bridge_requests_total{path="/v1/events",code="401"} 4$' "$tmp/metrics.txt" || arb_fail "metrics: 401s"
grep -q '^airudder_bridge_records_total{result="ok"} 7$' "$tmp/metrics.txt" || arb_fail "metrics: records"
grep -q '^airudder_bridge_dedup_answers_total 5$' "$tmp/metrics.txt" || arb_fail "metrics: dedup answers"
grep -q '^airudder_bridge_request_duration_seconds_count 17$' "$tmp/metrics.txt" || arb_fail "metrics: duration count $(grep duration_seconds_count "$tmp/metrics.txt")"

# 10. No secret and no signature value in the logs, even at debug level.
grep -F -q "$secret" "$tmp/bridge.log" && arb_fail "the secret appears in the log"
grep -F -q "$(arb_sign "$seed" "$secret")" "$tmp/bridge.log" && arb_fail "a signature appears in the log"

# 11. SIGTERM: clean exit 0.
arb_stop bridge || arb_fail "bridge did not exit 0 on SIGTERM"
arb_pass "bridge: seven records in order, every refusal with its status, dead letters kept"
