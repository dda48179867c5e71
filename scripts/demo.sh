#!/bin/sh
# demo.sh: the main job on one machine. Installs what is missing, builds, starts a local Kafka
# broker, the bridge, the sample agent desk and the replay, with the configuration files of
# conf/ (only the addresses changed to free local ports), posts AIRudder's documented
# channel.message.sent event signed the default way, and shows its seven records arriving in
# Kafka and then at the desk, in order, signature verified. Then it keeps everything running
# until Ctrl-C, so you can post more (the command to do so is printed).
#
#   scripts/demo.sh            run it, stop with Ctrl-C
#   scripts/demo.sh --once     show the flow, then stop everything (used by the tests)
#   scripts/demo.sh --no-build --build-dir DIR   use binaries already built in DIR
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
build=$root/build/release
once=false
do_build=true
while [ $# -gt 0 ]; do
    case $1 in
    --once) once=true ;;
    --no-build) do_build=false ;;
    --build-dir) build=$2; shift ;;
    *) echo "usage: scripts/demo.sh [--once] [--no-build] [--build-dir DIR]" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'demo.sh: ERROR: %s\n' "$*" >&2; exit 1; }

if $do_build; then
    say "dependencies"
    "$root/scripts/install-deps.sh"
    say "build ($build)"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
for binary in airudder-bridge airudder-replay tests/desk/sample-desk; do
    [ -x "$build/$binary" ] || die "no $binary in $build"
done

run=$(mktemp -d "${TMPDIR:-/tmp}/airudder-demo.XXXXXX")
pids=
sleeper=
cleanup() {
    trap - EXIT INT TERM
    for pid in $pids $sleeper; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    "$root/tests/kafka/kafka.sh" stop "$run/kafka" 2>/dev/null || true
    rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port (the defaults 8080/9092 may be taken on a developer's machine).
free_port() {
    while :; do
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
        hex=$(printf ':%04X' "$port")
        awk -v s="$hex" 'substr($2, length($2) - 4) == s { f = 1 } END { exit !f }' \
            /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$port"; return; }
    done
}
# shq STRING: STRING quoted for a POSIX shell ('...', inner quotes escaped), so a command
# printed for the reader to paste runs as shown whatever the path or secret holds.
shq() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}
wait_http() {
    i=0
    until curl -s -o /dev/null "$1"; do
        i=$((i + 1)); [ $i -lt 300 ] || die "no answer from $1"; sleep 0.1
    done
}

say "Kafka (a local single-node KRaft broker)"
"$root/tests/kafka/kafka.sh" start "$run/kafka"
bootstrap=$("$root/tests/kafka/kafka.sh" bootstrap "$run/kafka")

say "airudder-bridge (conf/airudder-bridge.conf)"
bridge_port=$(free_port)
sed -e "s/127.0.0.1:9092/$bootstrap/" -e "s/127.0.0.1:8080/127.0.0.1:$bridge_port/" \
    -e 's/format = "json"/format = "text"/' \
    "$root/conf/airudder-bridge.conf" >"$run/airudder-bridge.conf"
AIRUDDER_SIGN_SECRET=${AIRUDDER_SIGN_SECRET:-demo-secret}
export AIRUDDER_SIGN_SECRET
"$build/airudder-bridge" -t -c "$run/airudder-bridge.conf"
"$build/airudder-bridge" -c "$run/airudder-bridge.conf" 2>"$run/bridge.log" &
pids="$pids $!"
wait_http "http://127.0.0.1:$bridge_port/healthz"
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$bridge_port/readyz")" = 200 ]; do
    i=$((i + 1)); [ $i -lt 300 ] || die "bridge never became ready"; sleep 0.1
done

event=$root/tests/fixtures/channel.message.sent.json
# The one command that posts the event, signed: it runs as printed in any shell (the secret
# and the path are in it, quoted), and the demo runs exactly that text.
sign="openssl dgst -sha256 -hmac $(shq "$AIRUDDER_SIGN_SECRET") -r < $(shq "$event") | cut -d' ' -f1"
post="curl -s -w ' HTTP %{http_code}\\n' -H 'Content-Type: application/json' -H \"X-AIRudder-Sign: \$($sign)\" --data-binary @$(shq "$event") http://127.0.0.1:$bridge_port/v1/events"

say "POST the signed channel.message.sent event (7 messages)"
printf '$ %s\n' "$post"
sh -c "$post"

say "its records in Kafka (topic airudder.messages, key = call_id)"
kcat -b "$bootstrap" -C -t airudder.messages -o beginning -c 7 -e -q -J |
    jq -r '[.partition, .offset, .key, (.payload | fromjson | "\(.message_index) \(.message.sender_type) \(.message.content.type) \(.message.msg_id)")] | @tsv' |
    sort -n -k2 | awk 'BEGIN { print "partition\toffset\tkey\t\t\t\t\tindex sender content msg_id" } { print }'
count=$(kcat -b "$bootstrap" -C -t airudder.messages -o beginning -e -q -f 'x\n' | wc -l)
[ "$count" -eq 7 ] || die "expected 7 records, found $count"
echo "7 records, in order, one partition."

say "the sample agent desk and airudder-replay (conf/airudder-replay.conf)"
desk_port=$(free_port)
admin_port=$(free_port)
DESK_SIGN_SECRET=${DESK_SIGN_SECRET:-demo-desk-secret}
export DESK_SIGN_SECRET
"$build/tests/desk/sample-desk" --listen "127.0.0.1:$desk_port" --out "$run/desk.out" 2>"$run/desk.log" &
pids="$pids $!"
wait_http "http://127.0.0.1:$desk_port/healthz"
sed -e "s/127.0.0.1:9092/$bootstrap/" -e "s/127.0.0.1:9000/127.0.0.1:$desk_port/" \
    -e "s/127.0.0.1:8081/127.0.0.1:$admin_port/" -e 's/format = "json"/format = "text"/' \
    "$root/conf/airudder-replay.conf" >"$run/airudder-replay.conf"
"$build/airudder-replay" -t -c "$run/airudder-replay.conf"
"$build/airudder-replay" -c "$run/airudder-replay.conf" 2>"$run/replay.log" &
pids="$pids $!"
i=0
until [ "$(wc -l <"$run/desk.out" 2>/dev/null || echo 0)" -ge 7 ]; do
    i=$((i + 1)); [ $i -lt 600 ] || die "the desk did not get the seven messages (see $run/replay.log)"
    sleep 0.1
done
echo "the desk received (one AIRudder event per message, X-AIRudder-Sign verified):"
jq -r '[.idempotency_key, .signature_ok, .event.call_id, .event.messages[0].sender_type, .event.messages[0].content.type, .event.messages[0].msg_id] | @tsv' "$run/desk.out" |
    awk 'BEGIN { print "idempotency key\t\t\t\tsigned\tcall_id\t\t\t\t\tsender content msg_id" } { print }'
want=$(jq -c '[.messages[].msg_id]' "$event")
got=$(jq -s -c '[.[].event.messages[0].msg_id]' "$run/desk.out")
[ "$want" = "$got" ] || die "the desk got the messages out of order: $got"
echo "7 messages at the desk, in order."

if $once; then
    say "done (--once): stopping"
    exit 0
fi
say "running: bridge http://127.0.0.1:$bridge_port/v1/events, Kafka $bootstrap, desk http://127.0.0.1:$desk_port/events"
# Each line is a label and a command that runs as printed, pasted into any shell
# (tests/integration/test_demo_commands.sh runs them all). printf, not echo: dash's echo
# would turn the \n of curl's -w into a line break.
printf '%s\n' "(the same bytes again are a retry: answered 200 from the bridge's dedup window, not written again)"
printf 'post again:   %s\n' "$post"
printf 'read Kafka:   %s\n' "kcat -b $bootstrap -C -t airudder.messages -o beginning -e -J"
printf 'desk record:  %s\n' "tail -f $(shq "$run/desk.out")"
printf 'replay:       %s\n' "curl -s http://127.0.0.1:$admin_port/metrics"
printf 'logs:         %s\n' "tail -n 20 $(shq "$run/bridge.log") $(shq "$run/replay.log")"
echo "Ctrl-C stops everything."
# A sleep in the background and `wait`: a SIGTERM (or SIGINT) ends the wait at once and runs
# the trap, where a sleep in the foreground would hold it off until the sleep ended.
while :; do
    sleep 3600 &
    sleeper=$!
    wait "$sleeper" || true
done
