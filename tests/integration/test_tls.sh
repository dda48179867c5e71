#!/bin/sh
# TLS everywhere it can be, and SASL to Kafka, with a CA of the test's own (openssl):
# - the bridge serves HTTPS: a signed POST is answered 200 and its 7 records reach Kafka;
#   plain HTTP to that port and a client not trusting the CA both fail; keep-alive works
#   over TLS (three POSTs, suspended while Kafka acknowledges, on one connection);
# - the replay delivers to an HTTPS desk: with desk.ca_file every record arrives; with the
#   system store (which does not trust the CA) nothing does and the records are retried;
#   with desk.insecure_skip_verify they arrive again;
# - the bridge and the replay talk to Kafka over SSL, and over SASL_PLAINTEXT with PLAIN (the
#   password read from a file), on a broker of the test's own with those listeners, records
#   flowing end to end; with a wrong password the bridge's /readyz says 503.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
tls=$tmp/tls
seed=$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json # 7 messages
kafka_sh=$ARB_SOURCE_DIR/tests/kafka/kafka.sh

# ---- a CA, and a certificate for 127.0.0.1 and localhost signed by it (EC P-256: fast) ----
mkdir "$tls"
(
    cd "$tls" &&
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout ca-key.pem -out ca.pem -days 2 -subj "/CN=airudder-bridge test CA" &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout key.pem -out cert.csr -subj "/CN=localhost" &&
        printf '%s\n' 'subjectAltName = IP:127.0.0.1, DNS:localhost' \
            'basicConstraints = CA:FALSE' 'extendedKeyUsage = serverAuth' >cert.ext &&
        openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -days 2 -extfile cert.ext -out cert.pem
) >"$tmp/openssl.log" 2>&1 || {
    cat "$tmp/openssl.log" >&2
    arb_fail "openssl could not make the test certificates"
}
openssl verify -CAfile "$tls/ca.pem" "$tls/cert.pem" >/dev/null || arb_fail "cert.pem does not verify"

# The broker of the Kafka part, with SSL and SASL_PLAINTEXT listeners, starts now, while the
# HTTPS parts run on the shared one. Stopped on exit whatever happens (lib.sh's trap only
# knows arb_bg processes).
broker=$tmp/kafka
user=airudder
password=kafka-$(arb_unique pw)
arb_bg broker-guard sh -c "trap '\"$kafka_sh\" stop \"$broker\"' TERM; while :; do sleep 1; done"
arb_bg broker-start env ARB_KAFKA_SSL_DIR="$tls" ARB_KAFKA_SASL_PLAIN="$user:$password" \
    "$kafka_sh" start "$broker"

# post URL FILE [CURL_OPTION...]: POST FILE signed; print the status.
post() {
    post_url=$1 post_file=$2
    shift 2
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "X-AIRudder-Sign: $(arb_sign "$post_file" "$ARB_SIGN_SECRET")" \
        --data-binary "@$post_file" "$@" "$post_url" || true
}

# ---- the bridge over HTTPS (the shared broker) ----
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1

ARB_BRIDGE_TLS=$tls
# The same body is posted four times on purpose: the dedup window, which would answer the
# repeats without writing, is off here.
ARB_BRIDGE_SETTINGS='dedup = { window_s = 0; };'
arb_start_bridge "$messages" "$deadletter"
ARB_BRIDGE_SETTINGS=
base=${ARB_BRIDGE_URL%/v1/events}
case $ARB_BRIDGE_URL in https://*) ;; *) arb_fail "bridge URL $ARB_BRIDGE_URL is not https" ;; esac

arb_assert_eq 200 "$(post "$ARB_BRIDGE_URL" "$seed" --cacert "$tls/ca.pem")" "signed POST over HTTPS"
records=$(arb_consume "$messages" 7) || arb_fail "the 7 records are not in $messages"
arb_assert_eq 7 "$(printf '%s\n' "$records" | wc -l)" "7 records in Kafka"

plain=http://${base#https://}
arb_assert_eq 000 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$plain/healthz")" \
    "plain HTTP to the HTTPS port gets no answer"
rc=0
curl -s -o /dev/null --max-time 5 "$base/healthz" || rc=$?
arb_assert_eq 60 "$rc" "a client trusting only the system store refuses the certificate (curl 60)"

# Keep-alive: three signed POSTs on one TLS connection, each suspended until Kafka answers.
got=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' \
    --cacert "$tls/ca.pem" -H 'Content-Type: application/json' \
    -H "X-AIRudder-Sign: $(arb_sign "$seed" "$ARB_SIGN_SECRET")" --data-binary "@$seed" \
    "$ARB_BRIDGE_URL" "$ARB_BRIDGE_URL" "$ARB_BRIDGE_URL")
arb_assert_eq '200:1 200:0 200:0 ' "$got" "three POSTs over one TLS connection (status:num_connects)"
arb_assert_eq 28 "$(arb_topic_count "$messages")" "28 records after four POSTs"
answered=$(curl -s --cacert "$tls/ca.pem" "$base/metrics" |
    awk '$1 == "airudder_bridge_requests_total{path=\"/v1/events\",code=\"200\"}" { print $2 }')
arb_assert_eq 4 "$answered" "/metrics over HTTPS: 4 events answered 200"
arb_stop bridge || arb_fail "the HTTPS bridge did not exit 0 on SIGTERM"
ARB_BRIDGE_TLS=

# ---- the replay to an HTTPS desk: the 28 records ----
ARB_DESK_TLS=$tls
arb_start_desk desk
case $ARB_DESK_URL in https://*) ;; *) arb_fail "desk URL $ARB_DESK_URL is not https" ;; esac
ok='airudder_replay_deliveries_total{result="ok"}'
retry='airudder_replay_deliveries_total{result="retry"}'

# With desk.ca_file: every record delivered, none retried, signed.
arb_replay_conf "$tmp/replay-ca.conf" "$messages" "$deadletter" "$(arb_unique group)" \
    "ca_file = \"$tls/ca.pem\";"
# All 28 go to the desk each time: the replay's dedup window, which would drop the three
# repeats, is off, as the bridge's was (what is tested here is the transport).
no_dedup='dedup = { window_s = 0; };'
printf '%s\n' "$no_dedup" >>"$tmp/replay-ca.conf"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay-ca.conf"
arb_wait_lines "$tmp/desk.out" 28 60
arb_assert_eq 28 "$(arb_metric "$ARB_ADMIN_URL/metrics" "$ok")" "ca_file: 28 delivered over HTTPS"
arb_assert_eq 0 "$(arb_metric "$ARB_ADMIN_URL/metrics" "$retry")" "ca_file: no retries"
arb_assert_eq '[true]' "$(jq -s -c '[.[].signature_ok] | unique' "$tmp/desk.out")" "signed for the desk"
arb_stop replay || arb_fail "replay (ca_file) did not exit 0 on SIGTERM"

# Without: the system store does not trust the test CA, so nothing is delivered; retried.
group=$(arb_unique group)
arb_replay_conf "$tmp/replay-system.in" "$messages" "$deadletter" "$group"
# Debug logs name the failure; and a short stop, as it would wait for the desk.
sed 's/level = "info"/level = "debug"/' "$tmp/replay-system.in" >"$tmp/replay-system.conf"
printf 'shutdown_timeout_s = 2;\n' >>"$tmp/replay-system.conf"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay-system.conf"
deadline=$(($(date +%s) + 30))
until [ "$(arb_metric "$ARB_ADMIN_URL/metrics" "$retry")" -ge 3 ] 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "no retries counted within 30 s"
    sleep 0.2
done
arb_assert_eq 0 "$(arb_metric "$ARB_ADMIN_URL/metrics" "$ok")" "system store: nothing delivered"
arb_assert_eq 28 "$(arb_lines "$tmp/desk.out")" "system store: the desk got nothing new"
grep -q 'SSL certificate problem' "$tmp/replay.log" || arb_fail "the replay log does not name the certificate problem"
echo "ok: system store: retried ($(arb_metric "$ARB_ADMIN_URL/metrics" "$retry") retries), the certificate refused"
arb_stop replay || arb_fail "replay (system store) did not exit 0 on SIGTERM"

# desk.insecure_skip_verify, same group: the records not delivered are read again and arrive.
arb_replay_conf "$tmp/replay-insecure.conf" "$messages" "$deadletter" "$group" \
    "insecure_skip_verify = true;"
printf '%s\n' "$no_dedup" >>"$tmp/replay-insecure.conf"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay-insecure.conf"
arb_wait_lines "$tmp/desk.out" 56 60
arb_assert_eq 28 "$(arb_metric "$ARB_ADMIN_URL/metrics" "$ok")" "insecure_skip_verify: 28 delivered"
arb_stop replay || arb_fail "replay (insecure) did not exit 0 on SIGTERM"
arb_stop desk || arb_fail "the HTTPS desk did not exit 0 on SIGTERM"
ARB_DESK_TLS=

# ---- Kafka over SSL and over SASL_PLAINTEXT: the test's own broker ----
wait "$(arb_pid broker-start)" ||
    arb_fail "cannot start the test's own broker with SSL and SASL listeners (see broker-start.log)"
ARB_KAFKA_DIR=$broker # the harness's own tools (arb_consume, ...) use its PLAINTEXT listener
printf '%s\n' "$password" >"$tmp/kafka-password"
printf '%s\n' "not-$password" >"$tmp/wrong-password"
arb_start_desk desk-kafka

# flow NAME PROPERTIES BOOTSTRAP: bridge and replay with these kafka.properties, the event
# through both, its 7 records in a topic of their own and at the desk.
flow() {
    topic=$(arb_unique "$1")
    arb_topic_create "$topic" 3
    ARB_PRODUCT_BOOTSTRAP=$3
    ARB_BRIDGE_KAFKA_PROPERTIES=$2
    ARB_KAFKA_PROPERTIES=$2
    arb_start_bridge "$topic" airudder.deadletter
    arb_post "$seed"
    records=$(arb_consume "$topic" 7) || arb_fail "$1: the 7 records are not in $topic"
    arb_assert_eq 7 "$(printf '%s\n' "$records" | wc -l)" "$1: 7 records in Kafka"
    before=$(arb_lines "$tmp/desk-kafka.out")
    arb_replay_conf "$tmp/replay-$1.conf" "$topic" airudder.deadletter "$(arb_unique group)"
    arb_bg "replay-$1" "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay-$1.conf"
    arb_wait_lines "$tmp/desk-kafka.out" $((before + 7)) 60
    arb_assert_eq 7 "$(arb_metric "$ARB_ADMIN_URL/metrics" "$ok")" "$1: 7 delivered to the desk"
    arb_stop "replay-$1" || arb_fail "$1: replay did not exit 0 on SIGTERM"
    arb_stop bridge || arb_fail "$1: bridge did not exit 0 on SIGTERM"
    ARB_PRODUCT_BOOTSTRAP='' ARB_BRIDGE_KAFKA_PROPERTIES='' ARB_KAFKA_PROPERTIES=''
}

flow ssl "security_protocol = \"ssl\"; ssl_ca_location = \"$tls/ca.pem\";" \
    "$(cat "$broker/bootstrap-ssl")"
sasl="security_protocol = \"sasl_plaintext\"; sasl_mechanisms = \"PLAIN\"; sasl_username = \"$user\";"
flow sasl "$sasl sasl_password = \"file:$tmp/kafka-password\";" "$(cat "$broker/bootstrap-sasl")"

# A wrong password: the bridge serves, but is not ready, and says why.
port=$(arb_free_port)
cat >"$tmp/bridge-wrong.conf" <<EOF
http = { listen = "127.0.0.1:$port"; };
signature = { secrets = [ "\${ARB_SIGN_SECRET}" ]; };
kafka = { bootstrap = "$(cat "$broker/bootstrap-sasl")"; ack_timeout_ms = 2000;
          properties = { $sasl sasl_password = "file:$tmp/wrong-password"; }; };
log = { level = "info"; format = "text"; };
EOF
arb_bg bridge-wrong "$ARB_BUILD_DIR/airudder-bridge" -c "$tmp/bridge-wrong.conf"
arb_wait_http "http://127.0.0.1:$port/healthz"
deadline=$(($(date +%s) + 30))
until grep -q 'Authentication failed' "$tmp/bridge-wrong.log"; do
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "wrong password: no authentication failure logged in 30 s"
    sleep 0.2
done
arb_assert_eq 503 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" \
    "wrong SASL password: /readyz"
arb_assert_eq 503 "$(post "http://127.0.0.1:$port/v1/events" "$seed")" "wrong SASL password: POST"
arb_stop bridge-wrong || arb_fail "bridge (wrong password) did not exit 0 on SIGTERM"
arb_stop desk-kafka || arb_fail "the desk did not exit 0 on SIGTERM"

arb_pass "TLS: bridge over HTTPS, replay to an HTTPS desk (ca_file, system store, insecure), Kafka over SSL and SASL/PLAIN"
