#!/bin/sh
# Debug mode against real history. Three batches of conversations posted through the bridge a
# second apart (the bridge stamps records with their receipt time), plus one conversation
# whose records sit in two partitions. Checks the exact --dry-run output for a time window,
# one call_id across partitions, --offsets, --limit, a combination, an empty result; the
# errors; that the service group's committed offsets do not move; and that re-sending a
# window delivers exactly its records, in order, to a desk.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
group=$(arb_unique group)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
arb_start_bridge "$messages" "$deadletter"

post_batch() { # post_batch NAME:COUNT...
    for spec in "$@"; do
        arb_event "${spec%:*}" "${spec#*:}" "$tmp/event.json"
        arb_post "$tmp/event.json"
    done
}
post_batch a1:3 a2:2
sleep 1.2
t1=$(date +%s%3N)
post_batch b1:2 b2:3
sleep 1.2
t2=$(date +%s%3N)
post_batch c1:2
# Conversation x in partitions 0 and 2 (a call_id moves when a topic is re-partitioned).
for p in 0 2; do
    printf '{"event":"channel.message.sent","call_id":"x","message":{"msg_id":"x-%s","sender_type":"agent","content":{"type":"text","text":"hi"}},"message_index":0,"message_count":1,"received_at":0}\n' "$p" |
        kcat -b "$(arb_bootstrap)" -P -t "$messages" -p "$p" -k x -H airudder-event=channel.message.sent \
            -H airudder-call-id=x -H "airudder-msg-id=x-$p" -H airudder-sender-type=agent
done
total=14

# The service group delivers everything once, and commits.
arb_start_desk desk
arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$group"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_wait_lines "$tmp/desk.out" $total 60
arb_stop replay || arb_fail "service replay did not exit 0"
arb_group_offsets "$group" >"$tmp/offsets.before"

# Everything, as kcat sees it, in the dry-run format: the reference for exact comparisons.
kcat -b "$(arb_bootstrap)" -C -t "$messages" -o beginning -e -q -J | arb_as_dry_run | sort >"$tmp/all.jsonl"
arb_assert_eq $total "$(wc -l <"$tmp/all.jsonl")" "records in the topic"
# The service group committed, for every partition holding records, the offset past its last.
jq -r -s --arg t "$messages" 'group_by(.partition)[] | "\($t) \(.[0].partition) \(map(.offset) | max + 1)"' "$tmp/all.jsonl" |
    sort >"$tmp/offsets.want"
cmp -s "$tmp/offsets.want" "$tmp/offsets.before" ||
    arb_fail "committed offsets $(cat "$tmp/offsets.before") differ from the ends $(cat "$tmp/offsets.want")"
echo "ok: the service group committed past every delivered record"

# dry NAME [FLAG...]: run a dry run; its sorted output in $tmp/NAME.out, exit code checked 0.
dry() {
    name=$1
    shift
    "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf" --dry-run "$@" >"$tmp/$name.raw" 2>"$tmp/$name.err" ||
        arb_fail "$name: exit $? ($(cat "$tmp/$name.err"))"
    jq -c -S . "$tmp/$name.raw" | sort >"$tmp/$name.out"
}
# expect NAME JQ-SELECT: the dry run's output equals the reference records jq selects.
expect() {
    jq -c "select($2)" "$tmp/all.jsonl" | sort >"$tmp/$1.want"
    cmp -s "$tmp/$1.want" "$tmp/$1.out" ||
        arb_fail "$1: output differs from the expected records: $(diff "$tmp/$1.want" "$tmp/$1.out" | head -5)"
    printf 'ok: %s: %s records, exactly the expected ones\n' "$1" "$(wc -l <"$tmp/$1.out")"
}

dry everything --from-beginning
expect everything 'true'
jq -e -s 'all(.[]; (.value | type) == "object" and (.headers | type) == "object")' "$tmp/everything.out" >/dev/null ||
    arb_fail "value and headers must be JSON objects"

dry window --from "$t1" --until "$t2"
expect window '.timestamp >= '"$t1"' and .timestamp <= '"$t2"
arb_assert_eq '["b1-0","b1-1","b2-0","b2-1","b2-2"]' "$(jq -s -c '[.[].headers["airudder-msg-id"]] | sort' "$tmp/window.out")" "the window holds batch b"

dry rfc3339 --from "$(date -u -d "@$((t1 / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf '%03d' $((t1 % 1000)))Z" --until "$t2"
cmp -s "$tmp/window.out" "$tmp/rfc3339.out" || arb_fail "RFC 3339 and epoch ms give different windows"
echo "ok: RFC 3339 time and epoch ms agree"

dry callx --from-beginning --call-id x
expect callx '.key == "x"'
arb_assert_eq '[0,2]' "$(jq -s -c '[.[].partition] | sort' "$tmp/callx.out")" "call_id x across partitions 0 and 2"

part=$(jq -r 'select(.headers["airudder-msg-id"] == "b2-1") | .partition' "$tmp/all.jsonl")
offset=$(jq -r 'select(.headers["airudder-msg-id"] == "b2-1") | .offset' "$tmp/all.jsonl")
dry offsets --offsets "$messages:$part:$offset"
expect offsets ".partition == $part and .offset >= $offset"

dry limit --from-beginning --limit 3
arb_assert_eq 3 "$(wc -l <"$tmp/limit.out")" "--limit 3"
grep -Fxq -f "$tmp/limit.out" "$tmp/all.jsonl" || arb_fail "--limit printed records that are not in the topic"

dry combo --from "$t1" --call-id b2,c1 --sender-type robot --limit 2
jq -c "select(.timestamp >= $t1 and (.key == \"b2\" or .key == \"c1\") and .headers[\"airudder-sender-type\"] == \"robot\")" "$tmp/all.jsonl" |
    sort -t, -k1 >"$tmp/combo.all"
arb_assert_eq 2 "$(wc -l <"$tmp/combo.out")" "combination: --limit 2 of $(wc -l <"$tmp/combo.all") matching"
grep -Fxq -f "$tmp/combo.out" "$tmp/combo.all" || arb_fail "combination printed records outside the selection"
[ "$(grep -Fxc -f "$tmp/combo.out" "$tmp/combo.all")" -eq 2 ] || arb_fail "combination: both records must match"
echo "ok: combination of --from, --call-id, --sender-type and --limit"

dry nothing --from-beginning --call-id nobody
arb_assert_eq 0 "$(wc -l <"$tmp/nothing.out")" "an empty result"
grep -q 'scanned 14 records, matched 0' "$tmp/nothing.err" || arb_fail "no summary: $(cat "$tmp/nothing.err")"

# bad NAME MESSAGE FLAG...: exit 1 and MESSAGE on stderr.
bad() {
    name=$1 message=$2
    shift 2
    rc=0
    "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf" --dry-run "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    arb_assert_eq 1 "$rc" "$name: exit code"
    grep -qF "$message" "$tmp/$name.err" || arb_fail "$name: stderr lacks '$message': $(cat "$tmp/$name.err")"
    arb_assert_eq 0 "$(wc -l <"$tmp/$name.out")" "$name: nothing printed"
}
bad badtime 'not a time (use RFC 3339' --from yesterday
bad unknowntopic 'unknown topic "no-such-topic"' --offsets no-such-topic:0:0
bad nopartition 'has no partition 7' --offsets "$messages:7:0"
bad outofrange "offset 999 is out of range for $messages/0" --offsets "$messages:0:999"
bad reversed 'is after --until' --from "$t2" --until "$t1"

# Re-send the window to a desk: exactly its records, in order per conversation.
arb_start_desk desk2
rc=0
"$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf" --from "$t1" --until "$t2" --desk-url "$ARB_DESK_URL" \
    >"$tmp/resend.out" 2>"$tmp/resend.err" || rc=$?
arb_assert_eq 0 "$rc" "re-send: exit code ($(cat "$tmp/resend.err"))"
arb_assert_eq 5 "$(arb_lines "$tmp/desk2.out")" "re-send: five deliveries"
arb_assert_eq '["b1-0","b1-1"]' "$(jq -s -c '[.[] | select(.event.call_id == "b1") | .event.messages[0].msg_id]' "$tmp/desk2.out")" "re-send: b1 in order"
arb_assert_eq '["b2-0","b2-1","b2-2"]' "$(jq -s -c '[.[] | select(.event.call_id == "b2") | .event.messages[0].msg_id]' "$tmp/desk2.out")" "re-send: b2 in order"
arb_assert_eq '[true]' "$(jq -s -c '[.[].signature_ok] | unique' "$tmp/desk2.out")" "re-send: signed as in service mode"
# The same records the service group delivered, with the same Idempotency-Keys.
jq -r 'select(.event.call_id == "b1" or .event.call_id == "b2") | .idempotency_key' "$tmp/desk.out" | sort >"$tmp/keys.service"
jq -r '.idempotency_key' "$tmp/desk2.out" | sort >"$tmp/keys.resend"
cmp -s "$tmp/keys.service" "$tmp/keys.resend" || arb_fail "re-sent Idempotency-Keys differ from the service's"
echo "ok: re-sent records carry the Idempotency-Keys of their first delivery"

arb_group_offsets "$group" >"$tmp/offsets.after"
cmp -s "$tmp/offsets.before" "$tmp/offsets.after" ||
    arb_fail "debug mode moved the service group's offsets: $(diff "$tmp/offsets.before" "$tmp/offsets.after")"
echo "ok: the service group's committed offsets are unchanged"
arb_pass "debug replay: windows, conversations, offsets, limits, errors; re-send; no commits"
