#!/bin/sh
# run.sh: the benchmark. Prints a table; asserts nothing about speed (it is not a timed test),
# only that what it measured is right: the topic holds 7 records per event answered 200.
#
#   tests/bench/run.sh [--build-dir DIR] [--duration S] [--rounds N] [--connections C] [--smoke]
#
# With the signed seed event (5365 bytes, 7 messages) and wrk (2 threads, C connections):
#   1. the HTTP ceiling (bench-ceiling: libmicrohttpd with the bridge's threading, reading the
#      body and answering {}) and the bridge, alternating, N rounds each, against
#      a. librdkafka's mock cluster in a process of its own (little CPU taken from the bridge
#         on a small machine), and
#      b. the real Kafka broker (tests/kafka/kafka.sh), on the same machine;
#      requests/s, records/s, p50/p99, non-2xx, the bridge's peak RSS and CPU, and the check;
#   2. the bridge paced at half its best rate (mock cluster): p99 there;
#   3. overload (mock cluster, 1024 connections, the default http.max_in_flight of 1000):
#      peak RSS, 503s;
#   4. the replay: a topic pre-filled by the bridge delivered to the sample desk by a fresh
#      group (deliveries/s, peak RSS), and the desk's own ceiling with wrk;
# and the headline ratio bridge / ceiling. --smoke: one short round of each, for CI.
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
build=$root/build/release
duration=10
rounds=2
connections=64
while [ $# -gt 0 ]; do
    case $1 in
    --build-dir) build=$2; shift ;;
    --duration) duration=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --connections) connections=$2; shift ;;
    --smoke) duration=2; rounds=1 ;;
    *) echo "usage: $0 [--build-dir DIR] [--duration S] [--rounds N] [--connections C] [--smoke]" >&2; exit 2 ;;
    esac
    shift
done
for tool in wrk kcat jq curl openssl; do
    command -v $tool >/dev/null || { echo "bench: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
for binary in airudder-bridge airudder-replay tests/desk/sample-desk tests/bench/bench-ceiling tests/bench/mock-kafka; do
    [ -x "$build/$binary" ] || { echo "bench: no $binary in $build (build it first)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/airudder-bench.XXXXXX")
pids=
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    "$root/tests/kafka/kafka.sh" stop "$work/kafka" >/dev/null 2>&1 || true
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '%s\n' "$*" >&2; }

free_port() {
    while :; do
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
        hex=$(printf ':%04X' "$port")
        awk -v s="$hex" 'substr($2, length($2) - 4) == s { f = 1 } END { exit !f }' \
            /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$port"; return; }
    done
}
wait_http() {
    i=0
    until curl -s -o /dev/null "$1"; do
        i=$((i + 1)); [ $i -lt 300 ] || { say "no answer from $1"; exit 1; }; sleep 0.1
    done
}
# The value of one sample of a /metrics page.
metric() { curl -s "$1" | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'; }
# cpu_ticks PID: user + system clock ticks so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
peak_rss_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
# records TOPIC BOOTSTRAP: records ever written to a fresh 3-partition topic (the sum of the
# high watermarks: the mock cluster drops old segments, so low watermarks move).
records() {
    kcat -b "$2" -Q -t "$1:0:-1" -t "$1:1:-1" -t "$1:2:-1" 2>/dev/null | awk '{ s += $NF } END { print s + 0 }'
}

seed=$root/tests/fixtures/channel.message.sent.json
secret=bench-secret
export BENCH_BODY="$seed" BENCH_SIGN BENCH_KEY="" BENCH_INTERVAL_MS=0 BENCH_DIR="$root/tests/bench"
BENCH_SIGN=$(openssl dgst -sha256 -hmac "$secret" -r <"$seed" | cut -d' ' -f1)
ticks=$(getconf CLK_TCK)

# run_wrk URL [CONNECTIONS [SCRIPT]]: prints "requests/s p50 p99 non2xx errors requests"
run_wrk() {
    out=$(wrk -t2 -c"${2:-$connections}" -d"${duration}s" --timeout 10s \
        -s "$root/tests/bench/${3:-post.lua}" "$1" 2>&1 | grep '^RESULT')
    printf '%s\n' "$out" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.0f %s %s %s %s %s\n", v["requests"] / (v["duration_us"] / 1e6), v["p50_ms"],
               v["p99_ms"], v["non2xx"], v["errors"], v["requests"] }'
}

# ---- the brokers ----
say "bench: starting the mock cluster and the real broker"
topics=
r=1
while [ $r -le $((rounds + 4)) ]; do topics="$topics bench-$r:3"; r=$((r + 1)); done
# shellcheck disable=SC2086 # one argument per topic
"$build/tests/bench/mock-kafka" $topics bench-deadletter:1 >"$work/mock.bootstrap" 2>"$work/mock.log" &
pids="$pids $!"
i=0
until [ -s "$work/mock.bootstrap" ]; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
mock=$(cat "$work/mock.bootstrap")
"$root/tests/kafka/kafka.sh" start "$work/kafka" >/dev/null 2>&1 || { say "bench: the real broker did not start"; exit 1; }
real=$("$root/tests/kafka/kafka.sh" bootstrap "$work/kafka")

# ---- the HTTP ceiling and the bridge ----
ceiling_run() { # ceiling_run: prints the wrk line
    port=$(free_port)
    "$build/tests/bench/bench-ceiling" --listen "127.0.0.1:$port" 2>/dev/null &
    pid=$!
    wait_http "http://127.0.0.1:$port/"
    run_wrk "http://127.0.0.1:$port/v1/events"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

# bridge_run BOOTSTRAP TOPIC [CONNECTIONS [MAX_IN_FLIGHT [SCRIPT]]]: prints the wrk line, then
# "rss_kb cpu_percent records_checked(ok|FAIL:...) answered_200". SCRIPT fill.lua turns
# signature verification off (it varies the call_id, so it cannot sign).
bridge_run() {
    port=$(free_port)
    signature="secrets = [ \"$secret\" ];"
    [ "${5:-post.lua}" = fill.lua ] && signature='mode = "off";'
    cat >"$work/bridge.conf" <<CONF
http = { listen = "127.0.0.1:$port"; access_log = false; max_in_flight = ${4:-1000}; };
signature = { $signature };
kafka = { bootstrap = "$1"; ack_timeout_ms = 10000; };
routes = ( { event = "*"; topic = "$2"; } );
deadletter = { topic = "bench-deadletter"; };
log = { level = "error"; };
CONF
    "$build/airudder-bridge" -c "$work/bridge.conf" 2>>"$work/bridge.log" &
    pid=$!
    base=http://127.0.0.1:$port
    i=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; do
        i=$((i + 1)); [ $i -lt 300 ] || { say "bench: bridge not ready"; exit 1; }; sleep 0.1
    done
    before=$(cpu_ticks "$pid")
    line=$(run_wrk "$base/v1/events" "${3:-$connections}" "${5:-post.lua}")
    cpu=$(( ($(cpu_ticks "$pid") - before) * 100 / ticks / duration ))
    rss=$(peak_rss_kb "$pid")
    # Requests wrk left in flight are answered (and written) before counting.
    i=0
    while [ "$(metric "$base/metrics" airudder_bridge_requests_in_flight)" != 0 ] && [ $i -lt 150 ]; do
        i=$((i + 1)); sleep 0.1
    done
    ok=$(metric "$base/metrics" 'airudder_bridge_requests_total{path="/v1/events",code="200"}')
    kill "$pid"; wait "$pid" 2>/dev/null || true
    stored=$(records "$2" "$1")
    # Each 200 has its 7 records; beyond them only the requests wrk abandoned when it stopped
    # (one per connection at most: written, but their answer found the connection closed).
    if [ $((stored % 7)) -eq 0 ] && [ "$stored" -ge $((ok * 7)) ] &&
        [ "$stored" -le $(((ok + ${3:-$connections}) * 7)) ]; then
        check=ok
    else
        check="FAIL:$stored-records-for-$ok-200s"
    fi
    printf '%s\n%s %s %s %s\n' "$line" "$rss" "$cpu" "$check" "$ok"
}

printf '%s\n' "| run | Kafka | requests/s | records/s | p50 ms | p99 ms | non-2xx | bridge RSS MB | bridge CPU % | 7 records per 200 | 200s |" >"$work/table"
printf '%s\n' "|---|---|---|---|---|---|---|---|---|---|---|" >>"$work/table"
topic_n=1
best_ceiling=0
best_bridge_mock=0
for kind in mock real; do
    bootstrap=$mock
    [ $kind = real ] && bootstrap=$real
    r=1
    while [ $r -le "$rounds" ]; do
        say "bench: $kind round $r: ceiling"
        # shellcheck disable=SC2046 # the fields of one line
        set -- $(ceiling_run)
        printf '| ceiling %s | %s | %s | | %s | %s | %s | | | | |\n' "$r" "$kind" "$1" "$2" "$3" "$4" >>"$work/table"
        [ "$1" -gt "$best_ceiling" ] && best_ceiling=$1
        say "bench: $kind round $r: bridge"
        topic=bench-$topic_n
        [ $kind = real ] && "$root/tests/kafka/kafka.sh" create-topic "$work/kafka" "$topic" 3 >/dev/null 2>&1
        out=$(bridge_run "$bootstrap" "$topic")
        # shellcheck disable=SC2046 # the fields of two lines
        set -- $(printf '%s\n' "$out" | head -1) $(printf '%s\n' "$out" | tail -1)
        printf '| bridge %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$r" "$kind" "$1" $(( $1 * 7 )) \
            "$2" "$3" "$4" "$(( $7 / 1024 ))" "$8" "$9" "${10}" >>"$work/table"
        case $9 in ok) ;; *) say "bench: CHECK FAILED: $9"; failed=1 ;; esac
        [ $kind = mock ] && [ "$1" -gt "$best_bridge_mock" ] && best_bridge_mock=$1
        topic_n=$((topic_n + 1))
        r=$((r + 1))
    done
done

# ---- half rate, and overload (mock cluster) ----
say "bench: bridge paced at half its best rate"
half=$((best_bridge_mock / 2))
# Closed loop: each connection waits BENCH_INTERVAL_MS after an answer. A first run with
# connections/rate shows the latency at that load; the real run subtracts it.
BENCH_INTERVAL_MS=$(awk -v c="$connections" -v r="$half" 'BEGIN { printf "%.3f", 1000 * c / r }')
calibration=$(bridge_run "$mock" "bench-$topic_n" | head -1)
topic_n=$((topic_n + 1))
BENCH_INTERVAL_MS=$(awk -v c="$connections" -v r="$half" -v got="${calibration%% *}" -v i="$BENCH_INTERVAL_MS" \
    'BEGIN { latency = 1000 * c / got - i; v = 1000 * c / r - latency; printf "%.3f", (v > 0 ? v : 0) }')
out=$(bridge_run "$mock" "bench-$topic_n")
BENCH_INTERVAL_MS=0
# shellcheck disable=SC2046 # the fields of two lines
set -- $(printf '%s\n' "$out" | head -1) $(printf '%s\n' "$out" | tail -1)
printf '| bridge at %s/s | mock | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$half" "$1" $(( $1 * 7 )) "$2" "$3" "$4" \
    "$(( $7 / 1024 ))" "$8" "$9" "${10}" >>"$work/table"
case $9 in ok) ;; *) failed=1 ;; esac
topic_n=$((topic_n + 1))
say "bench: overload, 1024 connections"
out=$(bridge_run "$mock" "bench-$topic_n" 1024 1000)
# shellcheck disable=SC2046 # the fields of two lines
set -- $(printf '%s\n' "$out" | head -1) $(printf '%s\n' "$out" | tail -1)
printf '| bridge overload (1024 conn.) | mock | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" $(( $1 * 7 )) "$2" "$3" "$4" \
    "$(( $7 / 1024 ))" "$8" "$9" "${10}" >>"$work/table"
case $9 in ok) ;; *) failed=1 ;; esac

# ---- the replay, and the desk's own ceiling ----
say "bench: the sample desk's ceiling"
export DESK_SIGN_SECRET=bench-desk-secret
desk_port=$(free_port)
"$build/tests/desk/sample-desk" --listen "127.0.0.1:$desk_port" --out /dev/null 2>"$work/desk.log" &
desk_pid=$!
pids="$pids $desk_pid"
wait_http "http://127.0.0.1:$desk_port/healthz"
# What the replay sends: the seed rebuilt with one message, signed for the desk.
jq -c '.messages = [.messages[1]]' "$seed" >"$work/one.json"
BENCH_BODY=$work/one.json BENCH_KEY=k:1
BENCH_SIGN=$(openssl dgst -sha256 -hmac "$DESK_SIGN_SECRET" -r <"$work/one.json" | cut -d' ' -f1)
desk_line=$(run_wrk "http://127.0.0.1:$desk_port/events")
desk_ceiling=${desk_line%% *}

say "bench: filling a topic with many conversations (real broker)"
"$root/tests/kafka/kafka.sh" create-topic "$work/kafka" bench-fill 3 >/dev/null 2>&1
bridge_run "$real" bench-fill "$connections" 1000 fill.lua >/dev/null
say "bench: the replay, bench-fill (real broker) to the sample desk"
total=$(records bench-fill "$real")
admin=$(free_port)
cat >"$work/replay.conf" <<CONF
kafka = { bootstrap = "$real"; };
replay = { group = "bench-replay"; topics = [ "bench-fill" ]; admin_listen = "127.0.0.1:$admin"; };
desk = { url = "http://127.0.0.1:$desk_port/events"; signature = { secrets = [ "\${DESK_SIGN_SECRET}" ]; }; };
deadletter = { topic = "bench-deadletter"; };
log = { level = "error"; };
CONF
"$build/airudder-replay" -c "$work/replay.conf" 2>"$work/replay.log" &
replay_pid=$!
pids="$pids $replay_pid"
first=0
delivered=0
deadline=$(($(date +%s) + 600))
while [ "$delivered" -lt "$total" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.2
    delivered=$(metric "http://127.0.0.1:$admin/metrics" 'airudder_replay_deliveries_total{result="ok"}')
    [ "$first" -eq 0 ] && [ "$delivered" -gt 0 ] && first=$(date +%s%3N) && first_count=$delivered
done
last=$(date +%s%3N)
replay_rss=$(peak_rss_kb "$replay_pid")
kill "$replay_pid"; wait "$replay_pid" 2>/dev/null || true
if [ "$delivered" -eq "$total" ] && [ "$last" -gt "$first" ]; then
    replay_rate=$(( (delivered - first_count) * 1000 / (last - first) ))
    replay_check=ok
else
    replay_rate=0
    replay_check="FAIL:$delivered-of-$total"
    failed=1
fi

# ---- the table ----
ratio=$(awk -v b="$best_bridge_mock" -v c="$best_ceiling" 'BEGIN { printf "%.2f", c ? b / c : 0 }')
desk_ratio=$(awk -v r="$replay_rate" -v c="$desk_ceiling" 'BEGIN { printf "%.2f", c ? r / c : 0 }')
{
    printf '\nairudder-bridge benchmark: %s, %s CPUs, %s s runs, %s connections, signed %s-byte event (7 messages)\n\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$duration" "$connections" "$(wc -c <"$seed" | tr -d ' ')"
    cat "$work/table"
    printf '\n| replay | records | deliveries/s | desk ceiling req/s | replay / desk | replay RSS MB | all delivered |\n|---|---|---|---|---|---|---|\n'
    printf '| pre-filled topic -> sample desk | %s | %s | %s | %s | %s | %s |\n' "$total" "$replay_rate" \
        "$desk_ceiling" "$desk_ratio" "$((replay_rss / 1024))" "$replay_check"
    printf '\nheadline: bridge / HTTP ceiling = %s (best bridge %s req/s with the mock cluster, best ceiling %s req/s)\n' \
        "$ratio" "$best_bridge_mock" "$best_ceiling"
}
[ "${failed:-0}" -eq 0 ] || { say "bench: a check failed (see the table)"; exit 1; }
