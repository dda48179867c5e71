#!/bin/sh
# The README's "Debugging a conversation" examples work when pasted: they run, as written
# (only the addresses of conf/airudder-replay.conf and of the staging desk pointed at this
# test's broker and desks), against a topic holding the demo's signed event.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
work=$tmp/work
mkdir -p "$work/conf" "$work/build/release"
ln -s "$ARB_BUILD_DIR/airudder-replay" "$work/build/release/airudder-replay"

# The examples read airudder.messages (created with the shared broker; only this test
# writes to it).
arb_start_bridge airudder.messages airudder.deadletter
arb_post "$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json"
arb_start_desk staging
staging_port=$ARB_DESK_PORT
arb_start_desk desk
sed -e "s/127.0.0.1:9092/$(arb_bootstrap)/" -e "s/127.0.0.1:9000/127.0.0.1:$ARB_DESK_PORT/" \
    -e "s/127.0.0.1:8081/127.0.0.1:$(arb_free_port)/" \
    "$ARB_SOURCE_DIR/conf/airudder-replay.conf" >"$work/conf/airudder-replay.conf"

# One file per example (examples are separated by blank lines), addresses pointed here.
awk -v dir="$tmp" '/<!-- debug-examples:begin -->/ { on = 1; n = 1; next }
     /<!-- debug-examples:end -->/ { on = 0 }
     on && /^```/ { next }
     on && /^$/ { n++; next }
     on { print > (dir "/example" n ".sh") }' "$ARB_SOURCE_DIR/README.md"
arb_assert_eq 6 "$(find "$tmp" -name 'example*.sh' | wc -l)" "six examples in the README"
sed -i "s/127.0.0.1:9001/127.0.0.1:$staging_port/" "$tmp/example6.sh"

# run N: run example N from the work dir; its output in $tmp/exampleN.out.
run() {
    (cd "$work" && sh -e "$tmp/example$1.sh") >"$tmp/example$1.out" 2>"$tmp/example$1.err" ||
        arb_fail "example $1 failed: $(tail -5 "$tmp/example$1.err")"
}
for n in 1 2 3 4 5 6; do run $n; done

# 1: the conversation's seven messages, in order.
jq -r .msg_id "$tmp/example1.out" >"$tmp/ids"
jq -r '.messages[].msg_id' "$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json" >"$tmp/want"
cmp -s "$tmp/want" "$tmp/ids" || arb_fail "example 1 did not print the seven messages in order"
echo "ok: example 1 lists the conversation"
# 2: a window in the past: nothing, and a summary saying so.
arb_assert_eq 0 "$(arb_lines "$tmp/example2.out")" "example 2: nothing in that window"
grep -q 'matched 0' "$tmp/example2.err" || arb_fail "example 2: no summary"
# 3: the last hour's agent messages: the seed's one.
arb_assert_eq '["30754f2269a440e3b7206c88971f86eb"]' "$(jq -s -c '[.[].value.message.msg_id]' "$tmp/example3.out")" "example 3: the agent's message"
# 4: three records from partition 1, offset 0 on.
arb_assert_eq '[[1,0],[1,1],[1,2]]' "$(jq -s -c '[.[] | [.partition, .offset]]' "$tmp/example4.out")" "example 4: three records from 1:0"
# 5 and 6: the re-sends reached their desks, seven messages each.
arb_assert_eq 7 "$(arb_lines "$tmp/desk.out")" "example 5: re-sent to the desk"
arb_assert_eq 7 "$(arb_lines "$tmp/staging.out")" "example 6: sent to the staging desk"
arb_pass "README debugging examples run as written"
