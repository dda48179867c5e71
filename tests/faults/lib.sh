# shellcheck shell=sh
# tests/faults/lib.sh: helpers for the fault scenarios (tests/faults/test_*.sh), on top of
# tests/lib.sh. A scenario runs the real bridge (and replay) against the three-node cluster
# of tests/kafka/kafka.sh (cluster mode) under the load of fault-load (tests/faults/load.c),
# injects a fault, heals it, and checks the loss account fault-load prints:
#
#   #!/bin/sh
#   # shellcheck source-path=SCRIPTDIR source=lib.sh
#   . "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/lib.sh"
#   round() {                       # $1: the round number
#       fault_round_setup 3         # the cluster whole again, a fresh topic ($topic)
#       fault_start_bridge bridge
#       fault_load_start
#       fault_wait_ok 100
#       ... the fault; fault_mark fault; ... the heal; fault_mark heal
#       fault_load_finish           # a few seconds more load, then stop it
#       fault_account leader_kill "$1"
#       fault_check_common bridge   # LOST = 0, the bridge still the same process, ...
#   }
#   fault_rounds round
#
# Environment, on top of tests/lib.sh's (CTest sets the first two):
#   ARB_CLUSTER_DIR   the cluster's directory (default $ARB_BUILD_DIR/kafka-cluster)
#   ARB_FAULT_TABLE   file the loss-account rows are appended to (default: none)
#   ARB_FAULT_ROUNDS  how many times each scenario runs (default 1)
#   ARB_FAULT_RATE    events per second the load posts (default 40; 7 records each)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

ARB_CLUSTER_DIR=${ARB_CLUSTER_DIR:-$ARB_BUILD_DIR/kafka-cluster}
# Every helper of tests/lib.sh that talks to "the shared broker" talks to the cluster.
ARB_KAFKA_DIR=$ARB_CLUSTER_DIR
export ARB_KAFKA_DIR
FAULT_LOAD=$ARB_BUILD_DIR/tests/faults/fault-load
FAULT_RATE=${ARB_FAULT_RATE:-40}
FAULT_SEED=$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json
fault_tmp=$(arb_tmpdir)
# The processes (arb_bg names) that must never exit by themselves: fault_wait_ok checks them.
FAULT_WATCH=bridge

# fault_kafka COMMAND [ARG...]: tests/kafka/kafka.sh COMMAND on the cluster.
fault_kafka() {
    fault__command=$1
    shift
    "$ARB_KAFKA_SH" "$fault__command" "$ARB_CLUSTER_DIR" "$@"
}

# fault_now_ms: wall-clock milliseconds (what fault-load writes).
fault_now_ms() {
    date +%s%3N
}

# fault_rounds FUNCTION: run FUNCTION 1, FUNCTION 2, ... $ARB_FAULT_ROUNDS times.
fault_rounds() {
    fault__rounds=${ARB_FAULT_ROUNDS:-1}
    case $fault__rounds in '' | *[!0-9]* | 0) arb_fail "ARB_FAULT_ROUNDS: expected a positive integer" ;; esac
    fault__round=1
    while [ "$fault__round" -le "$fault__rounds" ]; do
        fault__t0=$(date +%s)
        "$1" "$fault__round"
        printf 'ok: round %s of %s took %s s\n' "$fault__round" "$fault__rounds" \
            $(($(date +%s) - fault__t0))
        fault__round=$((fault__round + 1))
    done
}

# fault_heal_cluster: every node running (thawed, restarted) and every partition fully in
# sync, as at the start of a scenario.
fault_heal_cluster() {
    for fault__n in 1 2 3; do
        fault_kafka node-thaw "$fault__n" >/dev/null 2>&1 || true
    done
    fault_kafka cluster-start >"$fault_tmp/heal.log" 2>&1 || {
        cat "$fault_tmp/heal.log" >&2
        arb_fail "cannot bring the cluster in $ARB_CLUSTER_DIR back"
    }
    fault_wait_isr 120
}

# fault_wait_isr [TIMEOUT_S]: wait until every node is up and every partition fully in sync.
fault_wait_isr() {
    fault_kafka wait-isr "${1:-120}" 2>"$fault_tmp/isr.err" || {
        cat "$fault_tmp/isr.err" >&2
        arb_fail "the cluster is not fully in sync within ${1:-120} s"
    }
}

# fault_round_setup PARTITIONS: heal the cluster; a fresh topic of PARTITIONS partitions in
# $topic and a dead-letter topic in $deadletter, both with three replicas.
fault_round_setup() {
    fault_heal_cluster
    topic=$(arb_unique faults)
    deadletter=$(arb_unique faults-dlq)
    arb_topic_create "$topic" "$1"
    arb_topic_create "$deadletter" 1
    fault_wait_isr 60
    rm -f "$fault_tmp/load.log" "$fault_tmp/summary"
}

# fault_start_bridge NAME: start airudder-bridge as NAME (e.g. bridge) routing to $topic,
# with the product's defaults but for the access log; its port stays for a restart
# (fault_restart_bridge). Sets FAULT_BRIDGE_URL (the events URL) and FAULT_BRIDGE (its base).
# $FAULT_BRIDGE_KAFKA_PROPERTIES goes to kafka.properties, $FAULT_BOOTSTRAP replaces the
# cluster's address.
fault_start_bridge() {
    fault__name=$1
    fault__port=$(arb_free_port)
    FAULT_BRIDGE=http://127.0.0.1:$fault__port
    FAULT_BRIDGE_URL=$FAULT_BRIDGE/v1/events
    cat >"$fault_tmp/$fault__name.conf" <<CONF
http = { listen = "127.0.0.1:$fault__port"; access_log = false; };
signature = { secrets = [ "\${ARB_SIGN_SECRET}" ]; };
kafka = { bootstrap = "${FAULT_BOOTSTRAP:-$(arb_bootstrap)}"; properties = { ${FAULT_BRIDGE_KAFKA_PROPERTIES:-} }; };
routes = ( { event = "*"; topic = "$topic"; } );
deadletter = { topic = "$deadletter"; };
log = { level = "info"; format = "text"; };
CONF
    fault_restart_bridge "$fault__name"
}

# fault_restart_bridge NAME: start the bridge NAME again with its config; wait until ready.
fault_restart_bridge() {
    arb_bg "$1" "$ARB_BUILD_DIR/airudder-bridge" -c "$fault_tmp/$1.conf"
    fault__url=$(sed -n 's/^http = { listen = "\([^"]*\)".*/http:\/\/\1/p' "$fault_tmp/$1.conf")
    arb_wait_ready "$fault__url/readyz" 60
}

# fault_load_start: post signed events to $FAULT_BRIDGE_URL at $FAULT_RATE per second as
# "load" (log $fault_tmp/load.log) until fault_load_finish; $FAULT_LOAD_OPTIONS are more
# options of fault-load post (e.g. "--calls 50").
fault_load_start() {
    # shellcheck disable=SC2086 # one word per option
    arb_bg load "$FAULT_LOAD" post --url "$FAULT_BRIDGE_URL" --log "$fault_tmp/load.log" \
        --seed "$FAULT_SEED" --rate "$FAULT_RATE" ${FAULT_LOAD_OPTIONS:-}
}

# fault_mark fault|heal: stamp the load's log ("mark fault MS"); the recovery time counts
# from the first fault mark, and the heal mark ends the window fault_account's window_ok
# covers.
fault_mark() {
    case $1 in
    fault) kill -USR1 "$(arb_pid load)" ;;
    heal) kill -USR2 "$(arb_pid load)" ;;
    *) arb_fail "fault_mark: fault or heal, not $1" ;;
    esac
    # The mark is written by the load's loop: wait for it, so what follows comes after it.
    fault__deadline=$(($(date +%s) + 10))
    until grep -q "^mark $1 " "$fault_tmp/load.log"; do
        [ "$(date +%s)" -lt "$fault__deadline" ] || arb_fail "fault_mark: no $1 mark in the load's log"
        sleep 0.05
    done
}

# fault_count_ok [SINCE_MS]: how many requests were answered 200 (at or after SINCE_MS).
fault_count_ok() {
    awk -v since="${1:-0}" '$1 == "req" && $6 == 200 && $5 >= since { n++ } END { print n + 0 }' \
        "$fault_tmp/load.log" 2>/dev/null || echo 0
}

# fault_count_status STATUS [SINCE_MS]: how many requests were answered STATUS (at or after).
fault_count_status() {
    awk -v s="$1" -v since="${2:-0}" '$1 == "req" && $6 == s && $5 >= since { n++ } END { print n + 0 }' \
        "$fault_tmp/load.log" 2>/dev/null || echo 0
}

# fault_wait_ok COUNT [TIMEOUT_S [SINCE_MS]]: wait until COUNT requests were answered 200
# (answered at or after SINCE_MS); the load must be running.
fault_wait_ok() {
    fault__deadline=$(($(date +%s) + ${2:-60}))
    while [ "$(fault_count_ok "${3:-0}")" -lt "$1" ]; do
        [ "$(date +%s)" -lt "$fault__deadline" ] ||
            arb_fail "fault_wait_ok: $(fault_count_ok "${3:-0}") of $1 requests answered 200 within ${2:-60} s"
        arb__alive "$(arb_pid load)" || arb_fail "fault_wait_ok: the load stopped"
        for fault__w in $FAULT_WATCH; do fault_check_alive "$fault__w"; done
        sleep 0.1
    done
}

# fault_load_finish [SECONDS]: after SECONDS (default 5) of load past the heal, with at
# least one 200 since the heal, stop the load (it waits for every answer).
fault_load_finish() {
    fault__since=$(fault_now_ms)
    fault_wait_ok 1 60 "$fault__since"
    sleep "${1:-5}"
    arb_stop load 60 || arb_fail "the load did not stop cleanly"
}

# fault_busiest_partition: the partition of $topic holding the most records now.
fault_busiest_partition() {
    fault__parts=$(kcat -b "$(arb_bootstrap)" -L -t "$topic" -m 10 2>/dev/null |
        sed -n 's/^ *partition \([0-9][0-9]*\), leader .*/\1/p')
    [ -n "$fault__parts" ] || arb_fail "fault_busiest_partition: no metadata for $topic"
    for fault__p in $fault__parts; do
        set -- "$@" -t "$topic:$fault__p:-1"
    done
    kcat -b "$(arb_bootstrap)" -Q "$@" 2>/dev/null |
        awk '$(NF - 1) == "offset" { p = $2; gsub(/[][]/, "", p); if ($NF > best || best == "") { best = $NF; part = p } }
             END { if (part == "") exit 1; print part }' ||
        arb_fail "fault_busiest_partition: cannot read the offsets of $topic"
}

# fault_leader PARTITION: the node leading that partition of $topic.
fault_leader() {
    fault_kafka leader "$topic" "$1" 2>"$fault_tmp/leader.err" || {
        cat "$fault_tmp/leader.err" >&2
        arb_fail "no leader for $topic [$1]"
    }
}

# fault_wait_new_leader PARTITION OLD [TIMEOUT_S]: wait until another node than OLD leads.
fault_wait_new_leader() {
    fault__deadline=$(($(date +%s) + ${3:-60}))
    while :; do
        fault__leader=$(fault_kafka leader "$topic" "$1" 2>/dev/null || echo -1)
        [ "$fault__leader" = -1 ] || [ "$fault__leader" = "$2" ] || break
        [ "$(date +%s)" -lt "$fault__deadline" ] ||
            arb_fail "$topic [$1]: still led by node $2 (or by none) after ${3:-60} s"
        sleep 0.2
    done
    printf 'ok: %s [%s] now led by node %s\n' "$topic" "$1" "$fault__leader"
}

# fault_account SCENARIO ROUND [ACCOUNT OPTION...]: read $topic back, print the loss-account
# row (and append it to $ARB_FAULT_TABLE), and set the figures as shell variables: requests
# ok unavailable other expected found lost extra dups dups_ok ooo window_ok recovery_ms max_ok_ms
# delivered undelivered redelivered desk_ooo desk_foreign past_commit foreign at_risk.
fault_account() {
    fault__scenario=$1 fault__round=$2
    shift 2
    # shellcheck disable=SC2034 # for the scenarios
    requests=0 ok=0 unavailable=0 other=0 expected=0 found=0 lost=0 extra=0 dups=0 dups_ok=0 ooo=0 \
        window_ok=0 recovery_ms=-1 max_ok_ms=0 delivered=0 undelivered=0 redelivered=0 \
        desk_ooo=0 desk_foreign=0 past_commit=0 foreign=0 at_risk=0
    "$FAULT_LOAD" account --log "$fault_tmp/load.log" --bootstrap "${FAULT_BOOTSTRAP:-$(arb_bootstrap)}" \
        --topic "$topic" --scenario "$fault__scenario" --round "$fault__round" \
        --summary "$fault_tmp/summary" ${ARB_FAULT_TABLE:+--table "$ARB_FAULT_TABLE"} "$@" ||
        arb_fail "fault-load account failed"
    # shellcheck disable=SC1091 # written just now by fault-load
    . "$fault_tmp/summary"
}

# fault_check_alive NAME: fail, saying how it ended, unless NAME (started by arb_bg) still runs.
fault_check_alive() {
    fault__pid=$(cat "$ARB_TMPDIR/.bg/$1" 2>/dev/null || true)
    [ -n "$fault__pid" ] || arb_fail "fault_check_alive: $1 is not running (never started, or stopped)"
    arb__alive "$fault__pid" && return 0
    fault__rc=0
    wait "$fault__pid" || fault__rc=$?
    printf -- '----- %s: last lines of %s.log -----\n' "$ARB_TEST" "$1" >&2
    tail -n 15 "$fault_tmp/$1.log" >&2
    fault__why=$(grep -i -m 1 'fatal error:' "$fault_tmp/$1.log" ||
        grep -i 'fatal' "$fault_tmp/$1.log" | tail -n 1)
    arb_fail "$1 exited by itself, status $fault__rc${fault__why:+: $fault__why}"
}

# fault_check_common NAME: what every scenario must show: nothing of a 200 lost, no stranger in
# the topic, records in order per conversation, the bridge never exited, and 200s again
# after the fault.
fault_check_common() {
    fault_check_alive "$1"
    [ "$foreign" -eq 0 ] || arb_fail "$foreign records in $topic are not this run's (or misrouted)"
    [ "$expected" -gt 0 ] || arb_fail "no request was answered 200: nothing tested"
    [ "$lost" -eq 0 ] || arb_fail "LOST: $lost of the $expected records of requests answered 200 are not in $topic"
    [ "$ooo" -eq 0 ] || arb_fail "$ooo records out of order within their call_id in $topic"
    [ "$recovery_ms" -ge 0 ] || arb_fail "no 200 after the fault"
    printf 'ok: %s records of %s 200s all in Kafka (%s extra, %s duplicates, %s of them of 200s), 200 again %s ms after the fault\n' \
        "$expected" "$ok" "$extra" "$dups" "$dups_ok" "$recovery_ms"
}

# fault_stop_bridge NAME: stop the bridge (SIGTERM); it must exit 0.
fault_stop_bridge() {
    arb_stop "$1" || arb_fail "$1 did not exit 0 on SIGTERM"
}

# ---- the replay ----

# fault_replay_conf NAME GROUP [LINE...]: write $fault_tmp/NAME.conf, a replay of $topic in
# GROUP delivering to $ARB_DESK_URL (see arb_replay_conf; LINEs go to its desk group); its
# admin URL is kept for fault_start_replay and fault_wait_drained.
fault_replay_conf() {
    fault__name=$1 fault__group=$2
    shift 2
    arb_replay_conf "$fault_tmp/$fault__name.conf" "$topic" "$deadletter" "$fault__group" "$@"
    printf '%s\n' "$ARB_ADMIN_URL" >"$fault_tmp/$fault__name.admin"
}

# fault_start_replay NAME: start airudder-replay NAME with its config; wait until it is ready
# (in its group, Kafka and the desk reachable).
fault_start_replay() {
    arb_bg "$1" "$ARB_BUILD_DIR/airudder-replay" -c "$fault_tmp/$1.conf"
    arb_wait_ready "$(cat "$fault_tmp/$1.admin")/readyz" 60
}

# fault_start_offsets GROUP: sample the offsets GROUP commits on $topic into
# $fault_tmp/offsets (fault-load offsets), as "offsets".
fault_start_offsets() {
    arb_bg offsets "$FAULT_LOAD" offsets --bootstrap "$(arb_bootstrap)" --group "$1" \
        --topic "$topic" --out "$fault_tmp/offsets" --interval-ms 200
}

# fault_wait_drained PARTITIONS TIMEOUT_S NAME...: wait until the replays NAME... between
# them have all PARTITIONS partitions of $topic assigned, nothing held and no lag: every
# record of the topic delivered and committable.
fault_wait_drained() {
    fault__parts=$1 fault__timeout=$2
    shift 2
    fault__deadline=$(($(date +%s) + fault__timeout))
    while :; do
        fault__state=$(for fault__r in "$@"; do
            curl -s --max-time 2 "$(cat "$fault_tmp/$fault__r.admin")/metrics" || echo broken
        done | awk '/^airudder_replay_lag_records\{/ { n++; lag += $2 }
                    /^airudder_replay_records_held / { held += $2 }
                    /^broken/ { bad = 1 }
                    END { printf "%d %d %d\n", bad ? -1 : n, lag, held }')
        [ "$fault__state" = "$fault__parts 0 0" ] && return 0
        [ "$(date +%s)" -lt "$fault__deadline" ] ||
            arb_fail "the replays did not deliver everything within $fault__timeout s (partitions lag held: $fault__state)"
        for fault__w in $FAULT_WATCH; do fault_check_alive "$fault__w"; done
        sleep 0.5
    done
}

# fault_check_desk: every record of $topic reached the desk, first deliveries in Kafka's
# order within each call_id, no commit past an undelivered record, nothing unknown.
fault_check_desk() {
    [ "$desk_foreign" -eq 0 ] || arb_fail "the desk got $desk_foreign events that are not records of $topic"
    [ "$undelivered" -eq 0 ] || arb_fail "$undelivered records of $topic never reached the desk"
    [ "$desk_ooo" -eq 0 ] || arb_fail "$desk_ooo first deliveries out of order within their call_id"
    [ "$past_commit" -eq 0 ] || arb_fail "the group committed past an undelivered record ($past_commit times)"
    printf 'ok: %s records delivered, in order per call_id, %s delivered again; no commit ahead of a delivery\n' \
        "$delivered" "$redelivered"
}

# ---- librdkafka's mock cluster (tests/bench/mock_kafka.c) ----

# fault_start_mock: start mock-kafka as "mock" with fresh topics $topic (3 partitions) and
# $deadletter, its commands read from a FIFO this shell holds open on fd 3; sets
# FAULT_BOOTSTRAP to its address, so fault_start_bridge and fault_account use it.
fault_start_mock() {
    topic=$(arb_unique faults)
    deadletter=$(arb_unique faults-dlq)
    rm -f "$fault_tmp/mock.fifo" "$fault_tmp/mock.log" "$fault_tmp/load.log" "$fault_tmp/summary"
    mkfifo "$fault_tmp/mock.fifo" || arb_fail "cannot create a FIFO"
    # shellcheck disable=SC2016 # expanded by that sh
    arb_bg mock sh -c 'fifo=$1; shift; exec "$@" <"$fifo"' sh "$fault_tmp/mock.fifo" \
        "$ARB_BUILD_DIR/tests/bench/mock-kafka" "$topic:3" "$deadletter:1"
    exec 3>"$fault_tmp/mock.fifo"
    fault__deadline=$(($(date +%s) + 10))
    until FAULT_BOOTSTRAP=$(grep -m 1 -E '^127\.0\.0\.1:[0-9]+$' "$fault_tmp/mock.log" 2>/dev/null); do
        [ "$(date +%s)" -lt "$fault__deadline" ] || arb_fail "mock-kafka printed no bootstrap address"
        sleep 0.05
    done
}

# fault_mock COMMAND...: send a command to the mock cluster and wait until it has run.
fault_mock() {
    fault__before=$(grep -c '^ok: \|^error: ' "$fault_tmp/mock.log" || true)
    printf '%s\n' "$*" >&3
    fault__deadline=$(($(date +%s) + 10))
    while [ "$(grep -c '^ok: \|^error: ' "$fault_tmp/mock.log" || true)" -le "$fault__before" ]; do
        [ "$(date +%s)" -lt "$fault__deadline" ] || arb_fail "mock-kafka did not answer: $*"
        sleep 0.05
    done
    fault__answer=$(grep '^ok: \|^error: ' "$fault_tmp/mock.log" | tail -n 1)
    case $fault__answer in
    ok:*) printf 'ok: mock-kafka: %s\n' "$*" ;;
    *) arb_fail "mock-kafka: $fault__answer" ;;
    esac
}

# fault_stop_mock: stop the mock cluster and close its FIFO.
fault_stop_mock() {
    exec 3>&-
    arb_stop mock || true
}
