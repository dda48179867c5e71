#!/bin/sh
# Several webhooks, one bridge (contract 3a): the workflow session-end notification, which
# has no event field and may come unsigned, through an endpoint of its own once per way of
# authenticating it (signature, a token in the path, a token in a header, basic auth). Each
# is answered 200 {} and becomes one record per message with the same headers as a
# channel.message.sent record (airudder-event being the endpoint's event), and reaches the
# sample desk through the replay, in order. A wrong token, credential or signature is
# answered 401 and writes nothing: the topic's high watermarks stay put and the dead-letter
# topic stays empty. An endpoint left without auth is refused at -t and at start, with its
# file:line, unless auth = "none" is written out, which starts and says so loudly.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
fixture=$ARB_SOURCE_DIR/tests/fixtures/workflow.session.end.json
seed=$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
bootstrap=$(arb_bootstrap)

WF_SIGN_SECRET=wf-sign-$(arb_unique s)
WF_TOKEN=wf-token-$(arb_unique t)
WF_PASSWORD=wf-password-$(arb_unique p)
export WF_SIGN_SECRET WF_TOKEN WF_PASSWORD

# ---- an endpoint without auth: refused unless auth = "none" is explicit ----

# noauth_conf FILE PORT [ENDPOINT SETTINGS]: one session-end endpoint, no signature group.
noauth_conf() {
    cat >"$1" <<EOF
http = { listen = "127.0.0.1:$2"; };
endpoints = (
  { path = "/wf"; event = "workflow.session.end"; schema = "workflow.session.end"; ${3:-} }
);
kafka = { bootstrap = "$bootstrap"; };
routes = ( { event = "*"; topic = "$messages"; } );
deadletter = { topic = "$deadletter"; };
log = { level = "info"; format = "text"; };
EOF
}
noauth_port=$(arb_free_port)
noauth_conf "$tmp/noauth.conf" "$noauth_port"
want="$tmp/noauth.conf:3: endpoints[0].auth: signature (the default) needs a secret"
rc=0
"$ARB_BUILD_DIR/airudder-bridge" -t -c "$tmp/noauth.conf" >"$tmp/noauth-t.out" 2>&1 || rc=$?
arb_assert_eq 1 "$rc" "-t on an endpoint without auth: exit status"
grep -qF "$want" "$tmp/noauth-t.out" || arb_fail "-t: no file:line error: $(cat "$tmp/noauth-t.out")"
rc=0
timeout 30 "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/noauth.conf" >"$tmp/noauth-start.out" 2>&1 || rc=$?
arb_assert_eq 1 "$rc" "start with an endpoint without auth: exit status"
grep -qF "$want" "$tmp/noauth-start.out" || arb_fail "start: no file:line error: $(cat "$tmp/noauth-start.out")"
curl -s -o /dev/null "http://127.0.0.1:$noauth_port/healthz" && arb_fail "something listens for the refused config"

noauth_conf "$tmp/none.conf" "$noauth_port" 'auth = "none";'
arb_assert_eq "configuration OK" "$("$ARB_BUILD_DIR/airudder-bridge" -t -c "$tmp/none.conf" 2>&1)" "-t with auth = \"none\""
arb_bg none "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/none.conf"
arb_wait_ready "http://127.0.0.1:$noauth_port/readyz"
grep 'AUTHENTICATION IS OFF' "$tmp/none.log" | grep -q 'path=/wf' ||
    arb_fail "auth = \"none\" started without a loud warning: $(cat "$tmp/none.log")"
grep 'AUTHENTICATION IS OFF' "$tmp/none.log" | grep -q ' warn ' || arb_fail "the warning is not at level warn"
arb_stop none || arb_fail "the auth = \"none\" bridge did not exit 0"
echo 'ok: auth = "none" starts, logged loudly'

# ---- one bridge, the session end through each way of authenticating ----

port=$(arb_free_port)
url=http://127.0.0.1:$port
# shellcheck disable=SC2016 # ${...} are for the config loader to expand
cat >"$tmp/bridge.conf" <<EOF
http = { listen = "127.0.0.1:$port"; };
signature = { secrets = [ "\${ARB_SIGN_SECRET}" ]; };
endpoints = (
  { path = "/v1/events"; },
  { path = "/wf/signed"; event = "workflow.session.end"; schema = "workflow.session.end";
    signature = { secrets = [ "\${WF_SIGN_SECRET}" ]; }; },
  { path = "/wf/path/{token}"; event = "workflow.session.end"; schema = "workflow.session.end";
    auth = "token"; token = { secrets = [ "\${WF_TOKEN}" ]; }; },
  { path = "/wf/header"; event = "workflow.session.end"; schema = "workflow.session.end";
    auth = "token"; token = { header = "X-Webhook-Token"; secrets = [ "\${WF_TOKEN}" ]; }; },
  { path = "/wf/basic"; event = "workflow.session.end"; schema = "workflow.session.end";
    auth = "basic"; basic = { users = ( { user = "airudder"; password = "\${WF_PASSWORD}"; } ); }; }
);
kafka = { bootstrap = "$bootstrap"; ack_timeout_ms = 10000; };
routes = ( { event = "*"; topic = "$messages"; } );
deadletter = { topic = "$deadletter"; };
log = { level = "debug"; format = "text"; };
EOF
arb_assert_eq "configuration OK" "$("$ARB_BUILD_DIR/airudder-bridge" -t -c "$tmp/bridge.conf" 2>&1)" "-t on the endpoints config"
arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/bridge.conf"
arb_wait_ready "$url/readyz"

# post NAME FILE PATH [CURL ARG...]: POST FILE to PATH; status and body in $tmp/NAME.*.
post() {
    name=$1 file=$2 path=$3
    shift 3
    curl -s -o "$tmp/$name.body" -D "$tmp/$name.headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' "$@" --data-binary "@$file" "$url$path" \
        >"$tmp/$name.status" || true
}
expect() { # expect NAME STATUS BODY
    arb_assert_eq "$2" "$(cat "$tmp/$1.status")" "$1: status"
    arb_assert_eq "$3" "$(cat "$tmp/$1.body")" "$1: body"
}
# session FILE CALL_ID: the fixture as conversation CALL_ID (other bytes, another request id).
session() {
    jq -c --arg call "$2" '.call_id = $call' "$fixture" >"$1" || arb_fail "cannot write $1"
}

# The channel.message.sent seed through the signed default endpoint: the reference shape.
post seed "$seed" /v1/events -H "X-AIRudder-Sign: $(arb_sign "$seed" "$ARB_SIGN_SECRET")"
expect seed 200 '{}'
modes="signature path header basic"
for mode in $modes; do
    session "$tmp/$mode.json" "wf-$mode"
done
post signature "$tmp/signature.json" /wf/signed -H "X-AIRudder-Sign: $(arb_sign "$tmp/signature.json" "$WF_SIGN_SECRET")"
post path "$tmp/path.json" "/wf/path/$WF_TOKEN"
post header "$tmp/header.json" /wf/header -H "X-Webhook-Token: $WF_TOKEN"
post basic "$tmp/basic.json" /wf/basic -u "airudder:$WF_PASSWORD"
for mode in $modes; do
    expect "$mode" 200 '{}'
done

count=$(jq '.messages | length' "$fixture")
total=$((7 + 4 * count))
arb_consume "$messages" "$total" >"$tmp/records.jsonl" || arb_fail "$total records did not arrive"
jq -s 'sort_by(.partition, .offset)' "$tmp/records.jsonl" >"$tmp/records.json"
# shellcheck disable=SC2016 # $h is jq's
names_of='[.headers as $h | range(0; $h | length; 2) | $h[.]]'
# shellcheck disable=SC2016
headers_of='[.headers as $h | range(0; $h | length; 2) | {key: $h[.], value: $h[. + 1]}] | from_entries'
shape=$(jq -c --arg call "$(jq -r .call_id "$seed")" \
    "[.[] | select(.key == \$call)][0] | $names_of" "$tmp/records.json")
arb_assert_eq '["airudder-event","airudder-call-id","airudder-msg-id","airudder-sender-type","airudder-content-type","airudder-request-id","airudder-received-at"]' \
    "$shape" "the headers of a channel.message.sent record"
for mode in $modes; do
    call=wf-$mode
    jq -c --arg call "$call" '[.[] | select(.key == $call)]' "$tmp/records.json" >"$tmp/$mode.records"
    arb_assert_eq "$count" "$(jq length "$tmp/$mode.records")" "$mode: one record per message"
    arb_assert_eq 1 "$(jq '[.[].partition] | unique | length' "$tmp/$mode.records")" "$mode: one partition"
    request_id=$(sha256sum "$tmp/$mode.json" | cut -c1-32)
    i=0
    while [ "$i" -lt "$count" ]; do
        record=$(jq -c ".[$i]" "$tmp/$mode.records")
        value=$(printf '%s' "$record" | jq -c '.payload | fromjson')
        arb_assert_eq "$i" "$(printf '%s' "$value" | jq .message_index)" "$mode record $i: in array order"
        arb_assert_eq "$(jq -c ".messages[$i]" "$tmp/$mode.json")" "$(printf '%s' "$value" | jq -c .message)" \
            "$mode record $i: the message, verbatim"
        arb_assert_eq "$(jq -c 'del(.messages)' "$tmp/$mode.json")" \
            "$(printf '%s' "$value" | jq -c 'del(.message, .message_index, .message_count, .received_at)')" \
            "$mode record $i: the envelope"
        arb_assert_eq "$shape" "$(printf '%s' "$record" | jq -c "$names_of")" \
            "$mode record $i: the headers a channel.message.sent record has"
        expected=$(jq -c --arg rid "$request_id" --argjson i "$i" \
            '{"airudder-event": "workflow.session.end", "airudder-call-id": .call_id,
              "airudder-msg-id": .messages[$i].msg_id, "airudder-sender-type": .messages[$i].sender_type,
              "airudder-content-type": .messages[$i].content.type, "airudder-request-id": $rid}' "$tmp/$mode.json")
        arb_assert_eq "$expected" "$(printf '%s' "$record" | jq -c "$headers_of | del(.\"airudder-received-at\")")" \
            "$mode record $i: header values"
        arb_assert_eq "$(printf '%s' "$value" | jq -c .received_at | jq -c tostring)" \
            "$(printf '%s' "$record" | jq -c "$headers_of | .\"airudder-received-at\"")" "$mode record $i: received-at"
        i=$((i + 1))
    done
done

# ---- refusals: 401, nothing written ----

# highs: every partition's high watermark, "P OFFSET" per line.
highs() {
    for p in 0 1 2; do
        kcat -b "$bootstrap" -Q -t "$messages:$p:-1" 2>/dev/null |
            awk -v p="$p" '$(NF - 1) == "offset" { print p, $NF }'
    done
}
highs >"$tmp/highs.before"
arb_assert_eq 3 "$(wc -l <"$tmp/highs.before")" "high watermarks of three partitions"
session "$tmp/refused.json" wf-refused
post bad-signature "$tmp/refused.json" /wf/signed -H "X-AIRudder-Sign: $(arb_sign "$tmp/refused.json" not-the-secret)"
expect bad-signature 401 '{"error":"invalid_signature"}'
post other-endpoints-secret "$tmp/refused.json" /wf/signed -H "X-AIRudder-Sign: $(arb_sign "$tmp/refused.json" "$ARB_SIGN_SECRET")"
expect other-endpoints-secret 401 '{"error":"invalid_signature"}'
post no-signature "$tmp/refused.json" /wf/signed
expect no-signature 401 '{"error":"invalid_signature"}'
post wrong-path-token "$tmp/refused.json" "/wf/path/not-$WF_TOKEN"
expect wrong-path-token 401 '{"error":"unauthorized"}'
post wrong-header-token "$tmp/refused.json" /wf/header -H "X-Webhook-Token: not-$WF_TOKEN"
expect wrong-header-token 401 '{"error":"unauthorized"}'
post no-header-token "$tmp/refused.json" /wf/header
expect no-header-token 401 '{"error":"unauthorized"}'
post wrong-password "$tmp/refused.json" /wf/basic -u "airudder:not-$WF_PASSWORD"
expect wrong-password 401 '{"error":"unauthorized"}'
grep -qi '^WWW-Authenticate: Basic' "$tmp/wrong-password.headers" || arb_fail "basic auth 401 without a challenge"
post wrong-user "$tmp/refused.json" /wf/basic -u "someone:$WF_PASSWORD"
expect wrong-user 401 '{"error":"unauthorized"}'
post no-credentials "$tmp/refused.json" /wf/basic
expect no-credentials 401 '{"error":"unauthorized"}'
highs >"$tmp/highs.after"
arb_assert_eq "$(cat "$tmp/highs.before")" "$(cat "$tmp/highs.after")" "high watermarks after nine 401s"

# A fence: one more accepted session end. The bridge answers it once Kafka has its records,
# and any record of a refused request would have been queued before them.
session "$tmp/fence.json" wf-fence
post fence "$tmp/fence.json" /wf/basic -u "airudder:$WF_PASSWORD"
expect fence 200 '{}'
total=$((total + count))
arb_assert_eq "$total" "$(arb_topic_count "$messages")" "records in $messages: the accepted ones only"
arb_assert_eq 0 "$(arb_topic_count "$deadletter")" "nothing in the dead-letter topic"
for secret in "$WF_SIGN_SECRET" "$WF_TOKEN" "$WF_PASSWORD" "$ARB_SIGN_SECRET"; do
    grep -F -q "$secret" "$tmp/bridge.log" && arb_fail "a secret appears in the bridge's log"
done
echo "ok: no token, password or secret in the log (level debug)"

# ---- to the desk, in order ----

arb_start_desk desk
arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$(arb_unique group)"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_wait_lines "$tmp/desk.out" "$total" 60
deadline=$(($(date +%s) + 30))
until [ "$(arb_metric "$ARB_ADMIN_URL/metrics" airudder_replay_records_held)" = 0 ] &&
    [ "$(arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="ok"}')" = "$total" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "the replay did not finish $total records"
    sleep 0.2
done
arb_assert_eq "$total" "$(arb_lines "$tmp/desk.out")" "deliveries: each record once"
arb_assert_eq '[true]' "$(jq -s -c '[.[].signature_ok] | unique' "$tmp/desk.out")" "every delivery signed for the desk"
for mode in $modes fence; do
    call=wf-$mode
    file=$tmp/$mode.json
    arb_assert_eq "$(jq -c '[.messages[].msg_id]' "$file")" \
        "$(jq -s -c --arg call "$call" '[.[] | select(.event.call_id == $call) | .event.messages[0].msg_id]' "$tmp/desk.out")" \
        "$mode: at the desk in order"
    first=$(jq -c --arg call "$call" 'select(.event.call_id == $call) | .event' "$tmp/desk.out" | head -n 1)
    arb_assert_eq "$(jq -c '.messages = [.messages[0]]' "$file")" "$first" "$mode: the desk got the session end itself"
done
arb_stop replay || arb_fail "replay did not exit 0 on SIGTERM"
arb_stop bridge || arb_fail "bridge did not exit 0 on SIGTERM"
arb_pass "session end through signature, path token, header token and basic: 200, records, the desk in order; 401 writes nothing; no auth refused unless \"none\""
