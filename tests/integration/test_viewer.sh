#!/bin/sh
# The conversation viewer over HTTP (airudder-replay --view), against records the bridge
# wrote and the replay delivered: the safety headers on every answer, a search, a
# conversation as HTML and as JSON with its delivery outcomes, hostile message text shown
# as text, an unknown content type as JSON, media never embedded; re-send refused without
# the token, with a wrong one, from another site, and when no token is configured; and a
# re-send with the token delivering exactly the messages from the chosen one on.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
deliveries=$(arb_unique deliveries)
token=viewer-token-$(arb_unique t)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
arb_topic_create "$deliveries" 1
arb_start_bridge "$messages" "$deadletter"
arb_start_desk desk --reject-msg-id view-2

# A conversation of five messages: text with markup, an unknown type, the seed's template,
# its image and its file.
jq -c '.call_id = "view-conv" | .messages = [
        {msg_id: "view-0", sender_type: "user", timestamp: 1720159500,
         content: {type: "text", text: "<script>alert(1)</script><img src=x onerror=alert(2)>"}},
        {msg_id: "view-1", sender_type: "robot", timestamp: 1720159501,
         content: {type: "location", location: {lat: -6.2, name: "<b>Jakarta</b>"}}},
        (.messages[0] | .msg_id = "view-2"), (.messages[2] | .msg_id = "view-3"),
        (.messages[3] | .msg_id = "view-4")]' \
    "$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json" >"$tmp/event.json"
arb_post "$tmp/event.json"
arb_event other-conv 2 "$tmp/other.json"
arb_post "$tmp/other.json"

arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$(arb_unique group)"
port=$(arb_free_port)
cp "$tmp/replay.conf" "$tmp/view-open.conf"
{
    printf 'delivery_log = { topic = "%s"; };\n' "$deliveries"
    printf 'viewer = { listen = "127.0.0.1:%s"; token = "%s"; };\n' "$port" "$token"
} >>"$tmp/replay.conf"
"$ARB_BUILD_DIR/airudder-replay" -t -c "$tmp/replay.conf" >/dev/null || arb_fail "-t rejected the config"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_consume "$deliveries" 7 60 >/dev/null || arb_fail "the delivery log did not get 7 outcomes"
arb_stop replay || arb_fail "replay did not exit 0"

arb_bg viewer "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf" --view
base=http://127.0.0.1:$port
arb_wait_http "$base/healthz" 30

# get PATH NAME: GET it; headers in NAME.h, body in NAME.body, status printed.
get() {
    curl -s -D "$tmp/$2.h" -o "$tmp/$2.body" -w '%{http_code}' "$base$1"
}
header() { # header NAME FIELD
    tr -d '\r' <"$tmp/$1.h" | sed -n "s/^$2: //Ip" | head -1
}

arb_assert_eq 200 "$(get / start)" "start page"
csp="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; media-src https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
arb_assert_eq "$csp" "$(header start Content-Security-Policy)" "Content-Security-Policy"
arb_assert_eq nosniff "$(header start X-Content-Type-Options)" "X-Content-Type-Options"
arb_assert_eq DENY "$(header start X-Frame-Options)" "X-Frame-Options"
arb_assert_eq same-origin "$(header start Referrer-Policy)" "Referrer-Policy"
arb_assert_eq 200 "$(get /static/viewer.js js)" "the script"
arb_assert_eq "text/javascript; charset=utf-8" "$(header js Content-Type)" "the script's type"
cp "$tmp/js.body" "$tmp/viewer.js"
if command -v node >/dev/null 2>&1; then
    node --check "$tmp/viewer.js" || arb_fail "the script does not parse"
fi

arb_assert_eq 200 "$(get '/?call_id=view&from=&until=' search)" "search"
grep -q 'href="/conversation?call_id=view-conv"' "$tmp/search.body" || arb_fail "the search does not list view-conv"
! grep -q 'other-conv' "$tmp/search.body" || arb_fail "the search lists a conversation that does not match"
arb_assert_eq 200 "$(get '/search.json?call_id=conv' search-json)" "search as JSON"
arb_assert_eq '["other-conv","view-conv"]' "$(jq -c '[.conversations[].call_id] | sort' "$tmp/search-json.body")" "both conversations found"

arb_assert_eq 200 "$(get '/conversation?call_id=view-conv' page)" "conversation page"
page=$tmp/page.body
[ "$(grep -o '<script' "$page" | wc -l)" -eq 1 ] || arb_fail "a script other than the viewer's own is on the page"
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;' "$page" ||
    arb_fail "the message's markup is not shown as text"
! grep -q '<img' "$page" || arb_fail "an image is embedded before any click"
grep -qF 'Content type &ldquo;location&rdquo;, shown as JSON' "$page" || arb_fail "the unknown type is not shown as JSON"
grep -qF '&lt;b&gt;Jakarta&lt;/b&gt;' "$page" || arb_fail "the unknown type's JSON is not escaped"
grep -qF 'data-load="image" data-host="www.planetware.com">Header image on <b class="host">www.planetware.com</b>' "$page" ||
    arb_fail "the template's header image is not a link naming its host"
echo "ok: hostile text as text, unknown type as JSON, media as links"

arb_assert_eq 200 "$(get '/conversation.json?call_id=view-conv' json)" "conversation as JSON"
arb_assert_eq '["view-0","view-1","view-2","view-3","view-4"]' "$(jq -c '[.records[].msg_id]' "$tmp/json.body")" "in order"
arb_assert_eq '["right","left","left","left","left"]' "$(jq -c '[.records[].side]' "$tmp/json.body")" "sides"
arb_assert_eq '["text","unknown","template","image","file"]' "$(jq -c '[.records[].kind]' "$tmp/json.body")" "kinds"
arb_assert_eq '["delivered","delivered","dead-lettered","delivered","delivered"]' \
    "$(jq -c '[.records[].deliveries[-1].status]' "$tmp/json.body")" "outcomes from the delivery log"
arb_assert_eq 400 "$(jq '.records[2].deliveries[0].desk_status' "$tmp/json.body")" "the desk's answer to view-2"
grep -qF 'data-status="dead-lettered">Dead-lettered at' "$page" || arb_fail "the page does not mark the dead letter"

# The record to re-send from: view-3 (the image), so view-3 and view-4 go again.
topic=$(jq -r '.records[3].topic' "$tmp/json.body")
part=$(jq -r '.records[3].partition' "$tmp/json.body")
offset=$(jq -r '.records[3].offset' "$tmp/json.body")
record="call_id=view-conv&topic=$topic&partition=$part&offset=$offset"
arb_assert_eq 200 "$(get "/resend?$record" confirm)" "confirmation page"
arb_assert_eq 2 "$(grep -o '<li data-offset=' "$tmp/confirm.body" | wc -l | tr -d ' ')" "the confirmation lists two messages"

post() { # post PATH BODY [CURL OPTION...]: print the status
    path=$1 body=$2
    shift 2
    curl -s -o "$tmp/post.body" -w '%{http_code}' "$@" --data "$body" "$base$path"
}
before=$(arb_lines "$tmp/desk.out")
arb_assert_eq 403 "$(post /resend "$record")" "re-send without the token"
arb_assert_eq 403 "$(post /resend "$record&token=wrong")" "re-send with a wrong token"
arb_assert_eq 403 "$(post /resend "$record&token=$token" -H 'Origin: http://evil.example')" "re-send from another site"
arb_assert_eq 403 "$(post /resend "$record&token=$token" -H 'Sec-Fetch-Site: cross-site')" "re-send, cross-site"
arb_assert_eq 405 "$(post /conversation "call_id=view-conv")" "POST elsewhere"
arb_assert_eq "$before" "$(arb_lines "$tmp/desk.out")" "nothing re-sent by the refused requests"

arb_assert_eq 200 "$(post /resend.json "$record" -H "Authorization: Bearer $token")" "re-send with the token"
arb_assert_eq true "$(jq .ok "$tmp/post.body")" "re-send ok"
arb_assert_eq 2 "$(jq .sent "$tmp/post.body")" "two sent"
arb_assert_eq '["delivered","delivered"]' "$(jq -c '[.outcomes[].status]' "$tmp/post.body")" "both delivered"
arb_assert_eq $((before + 2)) "$(arb_lines "$tmp/desk.out")" "two more at the desk"
arb_assert_eq '["view-3","view-4"]' "$(tail -n 2 "$tmp/desk.out" | jq -s -c '[.[].event.messages[0].msg_id]')" \
    "exactly the messages from view-3 on, in order"
arb_assert_eq '[2]' "$(tail -n 2 "$tmp/desk.out" | jq -s -c '[.[].attempt] | unique')" "with their first Idempotency-Keys"
# The re-send's outcomes are in the delivery log, and on the page.
arb_consume "$deliveries" 9 30 >/dev/null || arb_fail "the re-send's outcomes are not in the delivery log"
get '/conversation.json?call_id=view-conv' json2 >/dev/null
arb_assert_eq '["resend"]' "$(jq -c '[.records[3].deliveries[-1].mode]' "$tmp/json2.body")" "the re-send on the page"
arb_stop viewer || arb_fail "viewer did not exit 0"

# No token configured: reading only; no re-send, no button.
port2=$(arb_free_port)
printf 'delivery_log = { topic = "%s"; };\nviewer = { listen = "127.0.0.1:%s"; };\n' "$deliveries" "$port2" >>"$tmp/view-open.conf"
arb_bg viewer2 "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/view-open.conf" --view
base=http://127.0.0.1:$port2
arb_wait_http "$base/healthz" 30
arb_assert_eq 200 "$(get '/conversation?call_id=view-conv' open)" "reading without a token"
! grep -q 'Re-send from here' "$tmp/open.body" || arb_fail "a re-send button without a token"
arb_assert_eq 403 "$(get "/resend?$record" open-confirm)" "no confirmation without a token"
arb_assert_eq 403 "$(post /resend.json "$record&token=" -H 'Authorization: Bearer x')" "no re-send without a token"
arb_assert_eq resend_disabled "$(jq -r .error "$tmp/post.body")" "re-send disabled"
arb_stop viewer2 || arb_fail "viewer2 did not exit 0"

# Beyond loopback only with a token (checked by -t; nothing is bound).
sed "s/listen = \"127.0.0.1:$port2\"/listen = \"0.0.0.0:$port2\"/" "$tmp/view-open.conf" >"$tmp/exposed.conf"
if "$ARB_BUILD_DIR/airudder-replay" -t -c "$tmp/exposed.conf" >"$tmp/exposed.out" 2>&1; then
    arb_fail "-t accepted a viewer beyond loopback without a token"
fi
grep -q 'viewer.token: required when viewer.listen is not a loopback address' "$tmp/exposed.out" ||
    arb_fail "-t: $(cat "$tmp/exposed.out")"
echo "ok: beyond loopback needs a token"
arb_pass "viewer: safe pages of a conversation and its deliveries; re-send only with the token, exactly from the chosen message"
