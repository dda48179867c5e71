#!/bin/sh
# The loss account can fail: after a clean run against the mock cluster (every figure 0),
# forged evidence must show up in the right column. A request the log says was answered
# 200 but whose records are (mostly) missing is LOST; a record written twice is a
# duplicate; two records of a call_id written in the wrong order are out of order; a record
# the desk never got is undelivered, and a commit sampled past it is a commit ahead of a
# delivery.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"

unset ARB_FAULT_TABLE # forged rows are not part of the loss account

round() {
    fault_start_mock
    fault_start_bridge bridge
    FAULT_LOAD_OPTIONS="--events 20 --calls 5" fault_load_start
    fault_wait_ok 20 60
    arb_stop load || arb_fail "the load did not finish"
    fault_stop_bridge bridge
    kcat -b "$FAULT_BOOTSTRAP" -C -t "$topic" -e -q -J >"$fault_tmp/records.json" 2>/dev/null
    # a desk that got everything, at t = 1000
    jq -c '{received_at: 1000, event: {messages: [(.payload | fromjson | .message)]}}' \
        "$fault_tmp/records.json" >"$fault_tmp/desk.out"
    : >"$fault_tmp/offsets"
    fault_account account_clean "$1" --desk "$fault_tmp/desk.out" --offsets "$fault_tmp/offsets"
    arb_assert_eq "0 0 0 0 0 0 0 0" \
        "$lost $dups $ooo $undelivered $past_commit $redelivered $desk_ooo $foreign" \
        "clean run: lost dups ooo undelivered past_commit redelivered desk_ooo foreign"
    arb_assert_eq 140 "$expected" "clean run: 20 requests of 7 records expected"

    run=$(sed -n 's/^run \([0-9a-f]*\) .*/\1/p' "$fault_tmp/load.log")
    now=$(fault_now_ms)
    # request 20 "answered 200": only its records 1 then 0 written, in that order (5 lost,
    # 1 pair out of order); record 0 of request 0 written again (1 duplicate)
    printf 'req 20 0 %s %s 200 0\n' "$now" "$now" >>"$fault_tmp/load.log"
    # (request 20 is of call_id 0, like request 0: written where that call_id's records are)
    key=$run-c0
    partition=$(jq -r --arg key "$key" 'select(.key == $key) | .partition' "$fault_tmp/records.json" | head -n 1)
    [ -n "$partition" ] || arb_fail "no record of $key"
    for m in 20-1 20-0 0-0; do
        printf '%s\t{"call_id":"%s","message":{"msg_id":"%s-%s"}}\n' "$key" "$key" "$run" "$m"
    done | kcat -b "$FAULT_BOOTSTRAP" -P -t "$topic" -p "$partition" -K '	' 2>/dev/null
    # the desk never got the first record of a partition, yet a commit was sampled past it
    first=$(jq -r 'select(.offset == 0) | "\(.partition) \(.payload | fromjson | .message.msg_id)"' \
        "$fault_tmp/records.json" | head -n 1)
    [ -n "$first" ] || arb_fail "no record at offset 0"
    grep -v "\"${first#* }\"" "$fault_tmp/desk.out" >"$fault_tmp/desk.forged"
    echo "2000 ${first%% *} 1" >"$fault_tmp/offsets"
    fault_account account_forged "$1" --desk "$fault_tmp/desk.forged" --offsets "$fault_tmp/offsets"
    arb_assert_eq 5 "$lost" "forged: LOST"
    arb_assert_eq 1 "$dups" "forged: duplicates"
    arb_assert_eq 1 "$ooo" "forged: out of order"
    arb_assert_eq 3 "$undelivered" "forged: undelivered (the dropped one, and 20-1, 20-0)"
    arb_assert_eq 1 "$past_commit" "forged: commit ahead of a delivery"
    fault_stop_mock
}
fault_rounds round
arb_pass "the loss account reports loss, duplicates, disorder, undelivered records and early commits"
