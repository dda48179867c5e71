#!/bin/sh
# The commands scripts/demo.sh prints work when pasted: the demo runs (its own Kafka, bridge,
# desk and replay, as a user starts it, without --once), and every command it prints, the
# "$ curl ..." it ran and each "label:   command" line it leaves for the reader, is run as
# printed, by a fresh shell that has none of the demo's environment. Then the demo stops on
# SIGTERM at once, and takes what it started with it.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
log=$tmp/demo.log
arb_bg demo "$ARB_SOURCE_DIR/scripts/demo.sh" --no-build --build-dir "$ARB_BUILD_DIR"
deadline=$(($(date +%s) + 180))
until grep -q '^Ctrl-C stops everything\.$' "$log" 2>/dev/null; do
    kill -0 "$(arb_pid demo)" 2>/dev/null || arb_fail "the demo exited: $(tail -n 20 "$log")"
    [ "$(date +%s)" -lt "$deadline" ] || arb_fail "the demo printed no commands within 180 s"
    sleep 0.2
done
echo "ok: the demo is up and printed its commands"

# printed LABEL: the command printed after "LABEL:" (one line).
printed() {
    sed -n "s/^$1: *//p" "$log" | tail -n 1 | grep . || arb_fail "the demo printed no '$1:' line"
}
# pasted CMD...: run CMD as typed into a new shell: no variable of the demo or this test.
pasted() {
    env -i PATH="$PATH" HOME="$HOME" sh -c "$1"
}

# desk record: tail -f runs until stopped; started first, it shows the desk's 7 deliveries so
# far (tail's last 10 lines), then follows.
# (exec: the shell becomes tail, so stopping it stops tail.)
arb_bg desk-record env -i PATH="$PATH" HOME="$HOME" sh -c "exec $(printed 'desk record')"
arb_wait_lines "$tmp/desk-record.log" 7 30

# The post the demo showed as "$ curl ..." and the one it offers as "post again": each posts
# the seed event again, signed, and the bridge answers 200: a retry of the same bytes,
# answered from its dedup window and not written again.
ran=$(sed -n 's/^\$ //p' "$log" | grep '^curl ' | tail -n 1) || arb_fail "no '\$ curl' line"
again=$(printed 'post again')
out=$(pasted "$again") || arb_fail "post again, pasted: exit $?: $out"
arb_assert_eq ' HTTP 200' "$(printf '%s' "$out" | tail -n 1 | sed 's/^{}//')" "post again answers {} HTTP 200"
arb_assert_eq "$ran" "$again" "'post again' is the command the demo ran"
out=$(pasted "$ran") || arb_fail "the demo's \$ curl: exit $?: $out"
case $out in *'HTTP 200') echo "ok: the demo's \$ curl line, pasted, answers 200" ;; *) arb_fail "\$ curl: $out" ;; esac

# desk record: still the 7 deliveries (the repeats wrote nothing; their 200s came after the
# bridge decided so).
arb_stop desk-record >/dev/null 2>&1 || true
arb_assert_eq 7 "$(jq -s '[.[] | select(.signature_ok)] | length' "$tmp/desk-record.log")" "desk record: 7 signed deliveries"

# read Kafka: every record so far, then exit: the seed's 7, once.
pasted "$(printed 'read Kafka')" >"$tmp/kafka.json" 2>"$tmp/kafka.err" ||
    arb_fail "read Kafka: $(cat "$tmp/kafka.err")"
arb_assert_eq 7 "$(jq -s 'length' "$tmp/kafka.json")" "read Kafka prints the 7 records and exits"

# replay: its metrics; every delivery ok.
pasted "$(printed replay)" >"$tmp/metrics" 2>&1 || arb_fail "replay metrics: $(cat "$tmp/metrics")"
awk '$1 == "airudder_replay_deliveries_total{result=\"ok\"}" && $2 == 7 { f = 1 } END { exit !f }' "$tmp/metrics" ||
    arb_fail "replay metrics: $(grep deliveries_total "$tmp/metrics")"
echo "ok: replay metrics count the 7 deliveries"

# logs: the bridge's and the replay's logs.
pasted "$(printed logs)" >"$tmp/logs" 2>&1 || arb_fail "logs: $(cat "$tmp/logs")"
for which in bridge replay; do
    grep -q "$which.log' <==\|$which.log <==" "$tmp/logs" || arb_fail "logs printed no $which.log: $(head -n 5 "$tmp/logs")"
done
echo "ok: logs shows both logs"

# SIGTERM: the demo stops at once, and its bridge with it.
bridge=$(printed 'post again' | sed 's|.* \(http://[^ ]*\)/v1/events$|\1|')
start=$(date +%s)
rc=0
arb_stop demo 20 2>/dev/null || rc=$?
arb_assert_eq 130 "$rc" "the demo exits 130 on SIGTERM"
[ $(($(date +%s) - start)) -lt 20 ] || arb_fail "the demo took $(($(date +%s) - start)) s to stop"
curl -s -o /dev/null --max-time 2 "$bridge/healthz" && arb_fail "the demo's bridge still answers after the demo stopped"
echo "ok: the demo stopped on SIGTERM within $(($(date +%s) - start)) s, its bridge with it"
arb_pass "every command the demo prints runs as printed"
