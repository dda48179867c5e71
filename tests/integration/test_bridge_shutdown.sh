#!/bin/sh
# SIGTERM while clients are posting. Every request the bridge read is answered, 200 or 503
# (a connection refused after the listener closed is fine: that request was never sent), and
# so is every one waiting in the listener's accept queue when the signal came;
# every event answered 200 has all its records in Kafka; the bridge exits 0 within
# shutdown_timeout_s. Proved by counting: each request carries its own call_id.
# ARB_SHUTDOWN_ROUNDS=10 repeats it (each round a fresh bridge and topic).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
clients=8
per_client=400
shutdown_timeout_s=10
ARB_BRIDGE_SETTINGS="shutdown_timeout_s = $shutdown_timeout_s;"

# One body per request, each with its own call_id (3 messages), made once.
jq -c '.messages = .messages[0:3]' "$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json" >"$tmp/template.json"
c=0
while [ $c -lt $clients ]; do
    mkdir -p "$tmp/bodies/$c"
    i=0
    while [ $i -lt $per_client ]; do
        sed "s/66b4d7507d5a6618497600326f7b064b/c$c-$i/" "$tmp/template.json" >"$tmp/bodies/$c/$i.json"
        i=$((i + 1))
    done
    c=$((c + 1))
done

# client N: post its bodies one after the other until the bridge refuses connections; one
# line per request: "<call_id> <http code> <curl exit>".
client() {
    i=0
    while [ $i -lt $per_client ]; do
        body=$tmp/bodies/$1/$i.json
        rc=0
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
            -H "X-AIRudder-Sign: $(arb_sign "$body" "$ARB_SIGN_SECRET")" --data-binary "@$body" \
            "$ARB_BRIDGE_URL") || rc=$?
        echo "c$1-$i $code $rc"
        [ "$rc" -eq 7 ] && return 0 # connection refused: the listener is closed
        i=$((i + 1))
    done
}

round() {
    messages=$(arb_unique messages)
    deadletter=$(arb_unique deadletter)
    arb_topic_create "$messages" 3
    arb_topic_create "$deadletter" 1
    arb_start_bridge "$messages" "$deadletter"

    rm -f "$tmp"/client.*
    c=0
    while [ $c -lt $clients ]; do
        client $c >"$tmp/client.$c" &
        c=$((c + 1))
    done
    # Let the load build up, then stop the bridge in the middle of it.
    arb_wait_lines "$tmp/client.0" 20 60
    started=$(date +%s%3N)
    rc=0
    arb_stop bridge "$((shutdown_timeout_s + 5))" || rc=$?
    took=$(($(date +%s%3N) - started))
    wait
    arb_assert_eq 0 "$rc" "round $1: exit code after SIGTERM"
    [ "$took" -le $((shutdown_timeout_s * 1000)) ] || arb_fail "round $1: took $took ms to stop, over $shutdown_timeout_s s"

    cat "$tmp"/client.* >"$tmp/answers"
    # Every request sent was answered 200 or 503; only refused connections are left.
    bad=$(awk '!(($3 == 0 && ($2 == 200 || $2 == 503)) || $3 == 7)' "$tmp/answers")
    [ -z "$bad" ] || arb_fail "round $1: requests not answered 200/503: $(printf '%s\n' "$bad" | head -5)"
    ok=$(awk '$2 == 200' "$tmp/answers" | wc -l)
    refused=$(awk '$2 == 503' "$tmp/answers" | wc -l)
    [ "$ok" -gt 0 ] || arb_fail "round $1: no request succeeded"

    # Every 200 has its three records in Kafka.
    kcat -b "$(arb_bootstrap)" -C -t "$messages" -o beginning -e -q -f '%k\n' | sort | uniq -c |
        awk '$1 == 3 { print $2 }' >"$tmp/complete"
    awk '$2 == 200 { print $1 }' "$tmp/answers" | sort >"$tmp/acknowledged"
    missing=$(comm -23 "$tmp/acknowledged" "$tmp/complete")
    [ -z "$missing" ] || arb_fail "round $1: acknowledged but not in Kafka: $(printf '%s\n' "$missing" | head -5)"
    echo "ok: round $1: $ok answered 200 (all in Kafka), $refused answered 503, stopped in $took ms"
}

# accept_queue PORT: connections the kernel completed that the listener on PORT has not
# accepted yet (a listening socket's rx_queue in /proc/net/tcp).
accept_queue() {
    hex=$(awk -v suffix="$(printf ':%04X' "$1")" \
        '$4 == "0A" && substr($2, length($2) - 4) == suffix { split($5, q, ":"); print q[2] }' /proc/net/tcp)
    printf '%d\n' "0x${hex:-0}"
}

# SIGTERM with requests in the listener's accept queue: the bridge is frozen (SIGSTOP) while
# $queued clients connect and send, so that the kernel holds them all; then SIGTERM and
# SIGCONT. Closing the listener would reset them unread; each must be answered instead
# (503, or 200 if a worker took it before the stop).
queued=20
queued_round() {
    messages=$(arb_unique messages)
    deadletter=$(arb_unique deadletter)
    arb_topic_create "$messages" 3
    arb_topic_create "$deadletter" 1
    arb_start_bridge "$messages" "$deadletter"
    port=${ARB_BRIDGE_URL#http://127.0.0.1:}
    port=${port%%/*}
    pid=$(arb_pid bridge)
    kill -STOP "$pid"
    q=0
    while [ $q -lt $queued ]; do
        body=$tmp/queued.$q.json
        sed "s/66b4d7507d5a6618497600326f7b064b/q$q/" "$tmp/template.json" >"$body"
        { rc=0; code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
            -H "X-AIRudder-Sign: $(arb_sign "$body" "$ARB_SIGN_SECRET")" --data-binary "@$body" \
            "$ARB_BRIDGE_URL") || rc=$?; echo "q$q $code $rc"; } >"$tmp/queued.$q" &
        q=$((q + 1))
    done
    i=0
    until [ "$(accept_queue "$port")" -ge $queued ]; do
        i=$((i + 1))
        [ $i -lt 300 ] || { kill -CONT "$pid"; arb_fail "the accept queue never held $queued connections (it holds $(accept_queue "$port"))"; }
        sleep 0.1
    done
    kill -TERM "$pid"
    kill -CONT "$pid"
    rc=0
    arb_stop bridge "$((shutdown_timeout_s + 5))" || rc=$?
    wait
    arb_assert_eq 0 "$rc" "accept queue: exit code after SIGTERM"
    cat "$tmp"/queued.? "$tmp"/queued.?? >"$tmp/queued.answers"
    bad=$(awk '!($3 == 0 && ($2 == 200 || $2 == 503))' "$tmp/queued.answers")
    [ -z "$bad" ] || arb_fail "accept queue: requests not answered 200/503: $(printf '%s\n' "$bad" | head -5)"
    arb_assert_eq $queued "$(wc -l <"$tmp/queued.answers" | tr -d ' ')" "accept queue: answers"
    echo "ok: $queued requests waiting in the accept queue at SIGTERM were all answered"
}

rounds=${ARB_SHUTDOWN_ROUNDS:-1}
r=1
while [ $r -le "$rounds" ]; do
    round $r
    r=$((r + 1))
done
queued_round
arb_pass "bridge: SIGTERM under load answers every request it read, and those still in the accept queue, and loses no acknowledged event ($rounds round(s))"
