#!/bin/sh
# run.sh: the benchmark. Prints tables; asserts nothing about speed (it is not a timed test),
# only that what it measured is right: each server's topic holds 7 records per event it
# answered 200 (a server that answers without producing fails the run).
#
#   tests/bench/run.sh [--build-dir DIR] [--duration S] [--rounds N] [--connections C] [--smoke]
#                      [--replay-only]
#
# Every request is a new event (tests/bench/signed.lua: the seed, 5,365 bytes and 7 messages,
# with a call_id of its own, signed), as AIRudder sends them; wrk runs 2 threads and C
# connections. In one sitting, N rounds of, against librdkafka's mock cluster (a process of
# its own) and then the real Kafka broker (tests/kafka/kafka.sh):
#   - the HTTP ceiling (bench-ceiling: libmicrohttpd with the bridge's threading, reading the
#     body and answering {}),
#   - the bridge with its DEFAULT configuration (access log on, log level info): what users run,
#   - the bridge tuned (access log off, log level error), labelled so,
#   - the Go peer (../shared/peers/go-webhook, or $ARB_PEERS_DIR/go-webhook), built with
#     `go build` when Go is there;
# with requests/s, p50/p99, non-2xx, peak RSS and CPU microseconds per 200 of each server;
# then, mock cluster, default configuration: the bridge paced at half its best rate (p99
# there), a run counting the bridge's heap allocations per request (libarb-count-alloc.so
# preloaded; the counter costs time, so it has a run of its own), and 1,024 connections
# (peak RSS, 503s); then the replay: a topic filled by the bridge, delivered to the sample
# desk by a fresh group (deliveries/s, peak RSS), and the desk's own ceiling.
# --smoke: one short round, without the peer (for CI: it checks the harness, not the speed).
# --replay-only: the desk's ceiling and the replay, nothing else (the topic is still filled by
# the bridge, for --duration seconds).
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
build=$root/build/release
duration=10
rounds=2
connections=64
peers=1
servers=1
while [ $# -gt 0 ]; do
    case $1 in
    --build-dir) build=$2; shift ;;
    --duration) duration=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --connections) connections=$2; shift ;;
    --smoke) duration=2; rounds=1; peers=0 ;;
    --replay-only) servers=0; peers=0 ;;
    *) echo "usage: $0 [--build-dir DIR] [--duration S] [--rounds N] [--connections C] [--smoke] [--replay-only]" >&2; exit 2 ;;
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
wait_http() { # wait_http URL [STATUS]: until URL answers (with STATUS, when given)
    i=0
    until code=$(curl -s -o /dev/null -w '%{http_code}' "$1") && [ "$code" != 000 ] &&
        { [ -z "${2:-}" ] || [ "$code" = "$2" ]; }; do
        i=$((i + 1)); [ $i -lt 300 ] || { say "bench: no answer from $1"; exit 1; }; sleep 0.1
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
export BENCH_BODY="$seed" BENCH_SECRET="$secret" BENCH_SIGN="" BENCH_KEY="" BENCH_INTERVAL_MS=0 \
    BENCH_DIR="$root/tests/bench"
ticks=$(getconf CLK_TCK)
count_alloc=$build/tests/bench/libarb-count-alloc.so
# A sanitized build has its own allocator: nothing to count there.
if [ ! -f "$count_alloc" ] || ldd "$build/airudder-bridge" | grep -q 'libasan\|libtsan'; then
    count_alloc=
fi

# run_wrk URL [CONNECTIONS [SCRIPT]]: prints "requests/s p50 p99 non2xx errors requests"
run_wrk() {
    out=$(wrk -t2 -c"${2:-$connections}" -d"${duration}s" --timeout 10s \
        -s "$root/tests/bench/${3:-signed.lua}" "$1" 2>&1 | grep '^RESULT')
    printf '%s\n' "$out" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.0f %s %s %s %s %s\n", v["requests"] / (v["duration_us"] / 1e6), v["p50_ms"],
               v["p99_ms"], v["non2xx"], v["errors"], v["requests"] }'
}

# ---- the peer ----
peer=
peers_dir=${ARB_PEERS_DIR:-$root/../shared/peers}
if [ "$peers" = 1 ]; then
    if ! command -v go >/dev/null; then
        say "bench: Go is not installed: no Go peer in this sitting"
    elif [ ! -f "$peers_dir/go-webhook/main.go" ]; then
        say "bench: no Go peer at $peers_dir/go-webhook (set ARB_PEERS_DIR): none in this sitting"
    else
        say "bench: building the Go peer"
        cp -R "$peers_dir/go-webhook" "$work/go-webhook-src" # its folder may be read-only
        if (cd "$work/go-webhook-src" && GOFLAGS=-mod=mod go build -o "$work/go-webhook" .) >"$work/go-build.log" 2>&1; then
            peer=$work/go-webhook
        else
            tail -n 5 "$work/go-build.log" >&2
            say "bench: the Go peer did not build: none in this sitting"
        fi
    fi
fi

# ---- the brokers ----
say "bench: starting the mock cluster and the real broker"
topics=
t=1
while [ $t -le $((rounds * 6 + 8)) ]; do topics="$topics bench-$t:3"; t=$((t + 1)); done
# shellcheck disable=SC2086 # one argument per topic
"$build/tests/bench/mock-kafka" $topics bench-deadletter:1 >"$work/mock.bootstrap" 2>"$work/mock.log" </dev/null &
pids="$pids $!"
i=0
until [ -s "$work/mock.bootstrap" ]; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
mock=$(cat "$work/mock.bootstrap")
"$root/tests/kafka/kafka.sh" start "$work/kafka" >/dev/null 2>&1 || { say "bench: the real broker did not start"; exit 1; }
real=$("$root/tests/kafka/kafka.sh" bootstrap "$work/kafka")
"$root/tests/kafka/kafka.sh" create-topic "$work/kafka" bench-deadletter 1 >/dev/null 2>&1
topic_n=0
next_topic() { # next_topic KIND: a fresh 3-partition topic on that broker, in $topic
    topic_n=$((topic_n + 1))
    topic=bench-$topic_n
    if [ "$1" = real ]; then
        "$root/tests/kafka/kafka.sh" create-topic "$work/kafka" "$topic" 3 >/dev/null 2>&1
    fi
}

# ---- one server under load ----
# Each run_* prints one line: "req/s p50 p99 non2xx errors requests rss_kb cpu_us_per_200 check 200s"

ceiling_run() {
    port=$(free_port)
    "$build/tests/bench/bench-ceiling" --listen "127.0.0.1:$port" 2>/dev/null &
    pid=$!
    wait_http "http://127.0.0.1:$port/"
    before=$(cpu_ticks "$pid")
    line=$(run_wrk "http://127.0.0.1:$port/v1/events")
    used=$(($(cpu_ticks "$pid") - before))
    rss=$(peak_rss_kb "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    # shellcheck disable=SC2086 # the fields of the line
    set -- $line
    printf '%s %s %s - %s\n' "$line" "$rss" "$((used * 1000000 / ticks / ($6 - $4 + 1)))" "$(($6 - $4))"
}

# check_stored TOPIC BOOTSTRAP OK CONNECTIONS: "ok" when the topic holds the 7 records of
# each 200, plus at most those of the requests wrk abandoned when it stopped (one per
# connection: written, but their answer found the connection closed).
check_stored() {
    stored=$(records "$1" "$2")
    if [ $((stored % 7)) -eq 0 ] && [ "$stored" -ge $(($3 * 7)) ] && [ "$stored" -le $((($3 + $4) * 7)) ]; then
        echo ok
    else
        echo "FAIL:$stored-records-for-$3-200s"
    fi
}

# bridge_run BOOTSTRAP TOPIC PROFILE [CONNECTIONS]: PROFILE is defaults, tuned or allocs
# (defaults, with the allocation counter: its line ends in allocations per request). With
# more connections than http.max_connections_per_ip allows (wrk's all come from one
# address), that limit is raised to let them in.
bridge_run() {
    port=$(free_port)
    conns=${4:-$connections}
    tuning=
    [ "$3" = tuned ] && tuning='access_log = false;'
    {
        [ "$conns" -gt 256 ] && tuning="$tuning max_connections_per_ip = $((conns * 2));"
        printf 'http = { listen = "127.0.0.1:%s"; %s };\n' "$port" "$tuning"
        printf 'signature = { secrets = [ "%s" ]; };\n' "$secret"
        printf 'kafka = { bootstrap = "%s"; };\n' "$1"
        printf 'routes = ( { event = "*"; topic = "%s"; } );\n' "$2"
        printf 'deadletter = { topic = "bench-deadletter"; };\n'
        [ "$3" = tuned ] && printf 'log = { level = "error"; };\n'
    } >"$work/bridge.conf"
    : >"$work/bridge.log"
    if [ "$3" = allocs ]; then
        rm -f "$work/allocs"
        LD_PRELOAD=$count_alloc ARB_ALLOC_COUNTER=$work/allocs "$build/airudder-bridge" -c "$work/bridge.conf" 2>>"$work/bridge.log" &
    else
        "$build/airudder-bridge" -c "$work/bridge.conf" 2>>"$work/bridge.log" &
    fi
    pid=$!
    base=http://127.0.0.1:$port
    wait_http "$base/readyz" 200
    allocs_before=$(od -An -tu8 -N8 "$work/allocs" 2>/dev/null | tr -d ' ' || echo 0)
    ok_before=$(metric "$base/metrics" 'airudder_bridge_requests_total{path="/v1/events",code="200"}')
    before=$(cpu_ticks "$pid")
    line=$(run_wrk "$base/v1/events" "$conns")
    used=$(($(cpu_ticks "$pid") - before))
    allocs_after=$(od -An -tu8 -N8 "$work/allocs" 2>/dev/null | tr -d ' ' || echo 0)
    rss=$(peak_rss_kb "$pid")
    # Requests wrk left in flight are answered (and written) before counting.
    i=0
    while [ "$(metric "$base/metrics" airudder_bridge_requests_in_flight)" != 0 ] && [ $i -lt 150 ]; do
        i=$((i + 1)); sleep 0.1
    done
    ok=$(($(metric "$base/metrics" 'airudder_bridge_requests_total{path="/v1/events",code="200"}') - ok_before))
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -f "$work/bridge.log" # an access line per request: large, and read by nobody
    printf '%s %s %s %s %s' "$line" "$rss" "$((used * 1000000 / ticks / (ok + 1)))" \
        "$(check_stored "$2" "$1" "$ok" "$conns")" "$ok"
    [ "$3" = allocs ] && printf ' %s' "$(awk -v a="$((allocs_after - allocs_before))" -v n="$ok" 'BEGIN { printf "%.1f", n ? a / n : 0 }')"
    printf '\n'
}

# peer_run BOOTSTRAP TOPIC
peer_run() {
    port=$(free_port) peer_bootstrap=$1 peer_topic=$2
    LISTEN=127.0.0.1:$port BOOTSTRAP=$1 TOPIC=$2 AIRUDDER_SIGN_SECRET=$secret "$peer" 2>"$work/peer.log" &
    pid=$!
    wait_http "http://127.0.0.1:$port/healthz" 200
    before=$(cpu_ticks "$pid")
    line=$(run_wrk "http://127.0.0.1:$port/v1/events")
    used=$(($(cpu_ticks "$pid") - before))
    rss=$(peak_rss_kb "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    # shellcheck disable=SC2086 # the fields of the line
    set -- $line
    ok=$(($6 - $4 - $5))
    printf '%s %s %s %s %s\n' "$line" "$rss" "$((used * 1000000 / ticks / (ok + 1)))" \
        "$(check_stored "$peer_topic" "$peer_bootstrap" "$ok" "$connections")" "$ok"
}

# row NAME KIND LINE: a table row from a run_* line
row() {
    name=$1 kind=$2
    shift 2
    # shellcheck disable=SC2048,SC2086 # the fields of the line
    set -- $*
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$kind" "$1" "$2" "$3" \
        "$4" "$5" "$(($7 / 1024))" "$8" "$9" "${10}" >>"$work/table"
    case $9 in ok | -) ;; *) say "bench: CHECK FAILED ($name, $kind): $9"; failed=1 ;; esac
}

printf '%s\n' "| server | Kafka | requests/s | p50 ms | p99 ms | non-2xx | socket errors | RSS MB | CPU µs per 200 | 7 records per 200 | 200s |" >"$work/table"
printf '%s\n' "|---|---|---|---|---|---|---|---|---|---|---|" >>"$work/table"
best() { # best NAME KIND: the best requests/s of those rows
    awk -F' [|] ' -v n="$1" -v k="$2" '$1 == "| " n && $2 == k && $3 + 0 > b { b = $3 + 0 } END { print b + 0 }' "$work/table"
}

allocs=-
if [ "$servers" = 1 ]; then
    for kind in mock real; do
        bootstrap=$mock
        [ $kind = real ] && bootstrap=$real
        r=1
        while [ $r -le "$rounds" ]; do
            say "bench: $kind round $r: ceiling"
            row "HTTP ceiling" "$kind" "$(ceiling_run)"
            for profile in defaults tuned; do
                say "bench: $kind round $r: bridge, $profile"
                next_topic "$kind"
                label="airudder-bridge, defaults"
                [ $profile = tuned ] && label="airudder-bridge, tuned (access log off, log level error)"
                row "$label" "$kind" "$(bridge_run "$bootstrap" "$topic" $profile)"
            done
            if [ -n "$peer" ]; then
                say "bench: $kind round $r: Go peer"
                next_topic "$kind"
                row "Go peer (net/http + franz-go)" "$kind" "$(peer_run "$bootstrap" "$topic")"
            fi
            r=$((r + 1))
        done
    done

    # ---- half rate, allocations, and overload (mock cluster, defaults) ----
    say "bench: bridge paced at half its best rate"
    half=$(($(best "airudder-bridge, defaults" mock) / 2))
    # Closed loop: each connection waits BENCH_INTERVAL_MS after an answer. A first run with
    # connections/rate shows the latency at that load; the real run subtracts it.
    BENCH_INTERVAL_MS=$(awk -v c="$connections" -v r="$half" 'BEGIN { printf "%.3f", r ? 1000 * c / r : 0 }')
    next_topic mock
    calibration=$(bridge_run "$mock" "$topic" defaults)
    BENCH_INTERVAL_MS=$(awk -v c="$connections" -v r="$half" -v got="${calibration%% *}" -v i="$BENCH_INTERVAL_MS" \
        'BEGIN { latency = got ? 1000 * c / got - i : 0; v = r ? 1000 * c / r - latency : 0; printf "%.3f", (v > 0 ? v : 0) }')
    next_topic mock
    row "airudder-bridge, defaults, paced at $half/s" mock "$(bridge_run "$mock" "$topic" defaults)"
    BENCH_INTERVAL_MS=0
    if [ -n "$count_alloc" ]; then
        say "bench: bridge allocations per request"
        next_topic mock
        line=$(bridge_run "$mock" "$topic" allocs)
        row "airudder-bridge, defaults, allocations counted" mock "$line"
        allocs=${line##* }
    fi
    say "bench: overload, 1024 connections"
    next_topic mock
    row "airudder-bridge, defaults but max_connections_per_ip, 1024 connections" mock "$(bridge_run "$mock" "$topic" defaults 1024)"
fi

# ---- the replay, and the desk's own ceiling ----
say "bench: the sample desk's ceiling"
export DESK_SIGN_SECRET=bench-desk-secret
desk_port=$(free_port)
"$build/tests/desk/sample-desk" --listen "127.0.0.1:$desk_port" --out /dev/null 2>"$work/desk.log" &
desk_pid=$!
pids="$pids $desk_pid"
wait_http "http://127.0.0.1:$desk_port/healthz"
# What the replay sends: the seed rebuilt with one message, signed for the desk; the message
# of median size, so the body is about the size of the replay's average (612 bytes compact).
jq -c '.messages = [(.messages | sort_by(tojson | length))[length / 2 | floor]]' "$seed" >"$work/one.json"
BENCH_BODY=$work/one.json BENCH_KEY=k:1
BENCH_SIGN=$(openssl dgst -sha256 -hmac "$DESK_SIGN_SECRET" -r <"$work/one.json" | cut -d' ' -f1)
desk_line=$(run_wrk "http://127.0.0.1:$desk_port/events" "$connections" post.lua)
desk_ceiling=${desk_line%% *}
BENCH_BODY=$seed BENCH_KEY="" BENCH_SIGN=""

say "bench: filling a topic with many conversations (real broker)"
"$root/tests/kafka/kafka.sh" create-topic "$work/kafka" bench-fill 3 >/dev/null 2>&1
bridge_run "$real" bench-fill tuned >/dev/null
say "bench: the replay, bench-fill (real broker) to the sample desk"
total=$(records bench-fill "$real")
admin=$(free_port)
cat >"$work/replay.conf" <<CONF
kafka = { bootstrap = "$real"; };
replay = { group = "bench-replay"; topics = [ "bench-fill" ]; admin_listen = "127.0.0.1:$admin"; };
desk = { url = "http://127.0.0.1:$desk_port/events"; signature = { secrets = [ "\${DESK_SIGN_SECRET}" ]; }; };
deadletter = { topic = "bench-deadletter"; };
CONF
"$build/airudder-replay" -c "$work/replay.conf" 2>"$work/replay.log" &
replay_pid=$!
pids="$pids $replay_pid"
first=0
first_count=0
delivered=0
deadline=$(($(date +%s) + 600))
while [ "$delivered" -lt "$total" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.2
    delivered=$(metric "http://127.0.0.1:$admin/metrics" 'airudder_replay_deliveries_total{result="ok"}')
    [ "$first" -eq 0 ] && [ "$delivered" -gt 0 ] && first=$(date +%s%3N) && first_count=$delivered
done
last=$(date +%s%3N)
replay_rss=$(peak_rss_kb "$replay_pid")
replay_cpu=$(cpu_ticks "$replay_pid")
kill "$replay_pid"; wait "$replay_pid" 2>/dev/null || true
if [ "$delivered" -eq "$total" ] && [ "$last" -gt "$first" ]; then
    replay_rate=$(((delivered - first_count) * 1000 / (last - first)))
    replay_check=ok
else
    replay_rate=0
    replay_check="FAIL:$delivered-of-$total"
    failed=1
fi

# ---- the tables ----
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
ceiling=$(best "HTTP ceiling" mock)
bridge_mock=$(best "airudder-bridge, defaults" mock)
bridge_real=$(best "airudder-bridge, defaults" real)
{
    printf '\nairudder-bridge benchmark: %s, %s CPUs, %s s runs, %s connections, wrk -t2, a new signed %s-byte event (7 messages) per request\n\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$duration" "$connections" "$(wc -c <"$seed" | tr -d ' ')"
    [ "$servers" = 1 ] && cat "$work/table"
    printf '\n| replay (defaults) | records | deliveries/s | desk ceiling req/s | replay / desk | replay RSS MB | replay CPU µs per delivery | all delivered |\n|---|---|---|---|---|---|---|---|\n'
    printf '| bench-fill (real broker) -> sample desk | %s | %s | %s | %s | %s | %s | %s |\n' "$total" "$replay_rate" \
        "$desk_ceiling" "$(ratio "$replay_rate" "$desk_ceiling")" "$((replay_rss / 1024))" \
        "$((replay_cpu * 1000000 / ticks / (delivered + 1)))" "$replay_check"
    if [ "$servers" = 1 ]; then
        printf '\nbridge (defaults) / HTTP ceiling, mock cluster: %s (%s / %s req/s)\n' "$(ratio "$bridge_mock" "$ceiling")" "$bridge_mock" "$ceiling"
        if [ -n "$peer" ]; then
            printf 'bridge (defaults) / Go peer, mock cluster: %s; real broker: %s\n' \
                "$(ratio "$bridge_mock" "$(best "Go peer (net/http + franz-go)" mock)")" \
                "$(ratio "$bridge_real" "$(best "Go peer (net/http + franz-go)" real)")"
        fi
        printf 'bridge heap allocations per request (defaults): %s\n' "$allocs"
    fi
}
[ "${failed:-0}" -eq 0 ] || { say "bench: a check failed (see the table)"; exit 1; }
