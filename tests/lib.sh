# shellcheck shell=sh
# tests/lib.sh: helpers for the black-box tests (tests/integration/test_*.sh). POSIX sh.
#
# A test sources it first thing, runs the real binaries with arb_bg against the shared real
# broker, and checks what reached Kafka with arb_consume / arb_topic_count:
#
#   #!/bin/sh
#   # shellcheck source-path=SCRIPTDIR source=../lib.sh
#   . "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"
#   topic=$(arb_unique messages)
#   arb_topic_create "$topic" 3
#   arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$(arb_tmpdir)/bridge.conf"
#   ...
#   records=$(arb_consume "$topic" 2) || arb_fail "records missing"
#   arb_assert_eq 2 "$(printf '%s\n' "$records" | wc -l)" "records in $topic"
#   arb_pass "two events, two records"
#
# Environment (CTest sets all three; the defaults fit a manual run from the source tree):
#   ARB_SOURCE_DIR  the source tree (default: two levels above the test script)
#   ARB_BUILD_DIR   the build tree, airudder-bridge and airudder-replay at its top (default
#                   $ARB_SOURCE_DIR/build)
#   ARB_KAFKA_DIR   the shared broker's directory, see tests/kafka/kafka.sh (default
#                   $ARB_BUILD_DIR/kafka)
#   ARB_KEEP_TMP=1  keep the temp dir (logs, configs) instead of removing it on exit
#
# Sourcing creates the test's temp dir and installs EXIT/INT/TERM traps: on exit every process
# started by arb_bg is stopped (SIGTERM, SIGKILL after 5 s), on a non-zero exit the last lines
# of each arb_bg log are printed, and the temp dir is removed. A test must not set its own
# traps. Helpers that check something call arb_fail, which exits: inside $(...) it exits only
# the subshell, so write `x=$(arb_consume "$t" 3) || arb_fail "..."` (or use set -e).
# Helpers keep their state in variables named arb__*; tests must not use that prefix.

ARB_SOURCE_DIR=${ARB_SOURCE_DIR:-$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)}
ARB_BUILD_DIR=${ARB_BUILD_DIR:-$ARB_SOURCE_DIR/build}
ARB_KAFKA_DIR=${ARB_KAFKA_DIR:-$ARB_BUILD_DIR/kafka}
ARB_KAFKA_SH=$ARB_SOURCE_DIR/tests/kafka/kafka.sh
ARB_TEST=$(basename -- "$0" .sh)
export ARB_SOURCE_DIR ARB_BUILD_DIR ARB_KAFKA_DIR

# arb_fail MSG: print "FAIL: MSG" on stderr and exit 1.
arb_fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# arb_pass MSG: print "PASS: MSG" on stdout. It does not exit; the test ends by itself.
arb_pass() {
    printf 'PASS: %s\n' "$*"
}

# arb_assert_eq EXPECTED ACTUAL WHAT: fail unless the two strings are equal; print "ok: WHAT".
arb_assert_eq() {
    [ $# -eq 3 ] || arb_fail "arb_assert_eq: usage: arb_assert_eq EXPECTED ACTUAL WHAT"
    [ "$1" = "$2" ] || arb_fail "$3: expected '$1', got '$2'"
    printf 'ok: %s\n' "$3"
}

ARB_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/arb-$ARB_TEST.XXXXXX") || arb_fail "cannot create a temp dir"
mkdir "$ARB_TMPDIR/.bg" || arb_fail "cannot create $ARB_TMPDIR/.bg"

# arb_tmpdir: print the test's temp dir (absolute; removed on exit unless ARB_KEEP_TMP=1).
arb_tmpdir() {
    printf '%s\n' "$ARB_TMPDIR"
}

# Seconds since the epoch.
arb__now() {
    date +%s
}

# arb__alive PID: does PID exist and is it not a zombie (an exited child not yet waited for)?
arb__alive() {
    kill -0 "$1" 2>/dev/null || return 1
    arb__state=$(sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null || true)
    [ "$arb__state" != Z ]
}

# arb_free_port: print a TCP port nothing on this machine is bound to, below the ephemeral
# range, and not handed out before in this test. (Another process may still take it before
# the test binds it; the window is small.)
arb_free_port() {
    arb__tries=0
    while [ "$arb__tries" -lt 200 ]; do
        arb__port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
        arb__hex=$(printf ':%04X' "$arb__port")
        if ! grep -qx "$arb__port" "$ARB_TMPDIR/.ports" 2>/dev/null &&
            ! awk -v suffix="$arb__hex" \
                'substr($2, length($2) - 4) == suffix { found = 1 } END { exit !found }' \
                /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
            printf '%s\n' "$arb__port" >>"$ARB_TMPDIR/.ports"
            printf '%s\n' "$arb__port"
            return 0
        fi
        arb__tries=$((arb__tries + 1))
    done
    arb_fail "arb_free_port: no free port found"
}

# arb_wait_http URL [TIMEOUT_S [CURL_OPTION...]]: wait until URL answers HTTP with any status
# (default 30 s); fail on timeout. CURL_OPTIONs are passed on, e.g. --cacert FILE.
arb_wait_http() {
    arb__url=$1
    arb__deadline=$(($(arb__now) + ${2:-30}))
    arb__timeout=${2:-30}
    shift $(($# < 2 ? $# : 2))
    until curl -s -o /dev/null --max-time 2 "$@" "$arb__url"; do
        [ "$(arb__now)" -lt "$arb__deadline" ] ||
            arb_fail "arb_wait_http: no answer from $arb__url within $arb__timeout s"
        sleep 0.1
    done
}

# arb_bootstrap: print the shared broker's bootstrap address (127.0.0.1:PORT).
arb_bootstrap() {
    [ -s "$ARB_KAFKA_DIR/bootstrap" ] ||
        arb_fail "no broker: $ARB_KAFKA_DIR/bootstrap is missing (tests/kafka/kafka.sh start $ARB_KAFKA_DIR)"
    cat "$ARB_KAFKA_DIR/bootstrap"
}

# arb_unique NAME: print NAME-<8 random hex digits>, e.g. a topic no other test uses.
arb_unique() {
    printf '%s-%s\n' "$1" "$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
}

# arb_topic_create TOPIC PARTITIONS: create the topic on the shared broker (ok if it exists
# with that many partitions); returns once every partition has a leader.
arb_topic_create() {
    [ $# -eq 2 ] || arb_fail "arb_topic_create: usage: arb_topic_create TOPIC PARTITIONS"
    arb__out=$("$ARB_KAFKA_SH" create-topic "$ARB_KAFKA_DIR" "$1" "$2" 2>&1) || {
        printf '%s\n' "$arb__out" >&2
        arb_fail "arb_topic_create: cannot create topic $1 ($2 partitions)"
    }
}

# arb_own_broker: start a broker of the test's own in $(arb_tmpdir)/kafka, for a test that
# stops it; it is stopped when the test exits, and from now on ARB_KAFKA_DIR names it (so
# arb_bootstrap, arb_topic_create, arb_consume... use it). Stop and start it again with
# "$ARB_KAFKA_SH" stop "$ARB_KAFKA_DIR" and "$ARB_KAFKA_SH" start "$ARB_KAFKA_DIR".
arb_own_broker() {
    ARB_KAFKA_DIR=$ARB_TMPDIR/kafka
    "$ARB_KAFKA_SH" start "$ARB_KAFKA_DIR" || arb_fail "arb_own_broker: cannot start the test's own broker"
    # Stopped on exit whatever happens (the exit trap stops arb_bg processes only).
    arb_bg broker-guard sh -c "trap '\"$ARB_KAFKA_SH\" stop \"$ARB_KAFKA_DIR\"' TERM; while :; do sleep 1; done"
}

# arb_sign FILE SECRET [ALGO]: print the hex HMAC (default sha256) of FILE's bytes.
arb_sign() {
    [ $# -ge 2 ] || arb_fail "arb_sign: usage: arb_sign FILE SECRET [ALGO]"
    [ -r "$1" ] || arb_fail "arb_sign: cannot read $1"
    # openssl 3 prints "HMAC-SHA2-256(stdin)= <hex>" (the label varies by version and
    # algorithm): keep what follows the last space.
    arb__out=$(openssl dgst "-${3:-sha256}" -hmac "$2" <"$1") ||
        arb_fail "arb_sign: openssl dgst -${3:-sha256} failed"
    printf '%s\n' "${arb__out##* }"
}

# arb_consume TOPIC COUNT [TIMEOUT_S]: read TOPIC from the beginning until COUNT records have
# arrived (default timeout 30 s) and print them, one JSON object per line (kcat -J). Fails,
# showing what did arrive, if fewer than COUNT arrive in time. Records beyond the first COUNT
# are not read: to check that there are no more, use arb_topic_count. Records of different
# partitions interleave in any order; within a partition they come in offset order.
#
# The shape kcat 1.7.1 -J prints (checked against Kafka 4.1.1), one line per record:
#   {"topic":"t","partition":1,"offset":0,"tstype":"create","ts":1795544251093,"broker":1,
#    "headers":["h1","v1","h2","v2","h1","again"],"key":"k1","payload":"hello"}
# - "headers" is a flat array of alternating names and values, in record order, duplicates
#   kept; the key is ABSENT (not []) when the record has no headers. A header with a null
#   value has null there. jq: [.headers // [] | _nwise(2) | {(.[0]): .[1]}] | add
#   gives an object (last value wins), or .headers[(.headers | index("h1")) + 1] one value.
# - "key" and "payload" are JSON strings, or null when absent.
# - "ts" is milliseconds since the epoch; "tstype" is "create" or "logappend".
arb_consume() {
    [ $# -ge 2 ] || arb_fail "arb_consume: usage: arb_consume TOPIC COUNT [TIMEOUT_S]"
    arb__bootstrap=$(arb_bootstrap) || exit 1
    arb__file=$(mktemp "$ARB_TMPDIR/.consume.XXXXXX")
    timeout "${3:-30}" kcat -b "$arb__bootstrap" -C -t "$1" -o beginning -c "$2" -J -q \
        >"$arb__file" 2>"$arb__file.err" || true
    arb__got=$(grep -c . "$arb__file" || true)
    if [ "$arb__got" -lt "$2" ]; then
        printf 'arb_consume: records that arrived from %s:\n' "$1" >&2
        cat "$arb__file" "$arb__file.err" >&2
        arb_fail "arb_consume: $arb__got of $2 records in $1 within ${3:-30} s"
    fi
    cat "$arb__file"
    rm -f "$arb__file" "$arb__file.err"
}

# arb_topic_count TOPIC: print how many records TOPIC holds now: the sum over its partitions
# of high minus low watermark (for a transactional producer this counts commit markers too).
arb_topic_count() {
    [ $# -eq 1 ] || arb_fail "arb_topic_count: usage: arb_topic_count TOPIC"
    arb__bootstrap=$(arb_bootstrap) || exit 1
    arb__parts=$(kcat -b "$arb__bootstrap" -L -t "$1" -m 10 2>/dev/null |
        sed -n 's/^ *partition \([0-9][0-9]*\), leader .*/\1/p')
    [ -n "$arb__parts" ] || arb_fail "arb_topic_count: no topic $1"
    # shellcheck disable=SC2086 # one argument per partition
    arb__high=$(arb__offsets "$1" -1 $arb__parts) || exit 1
    # shellcheck disable=SC2086
    arb__low=$(arb__offsets "$1" -2 $arb__parts) || exit 1
    printf '%s\n' $((arb__high - arb__low))
}

# arb__offsets TOPIC WHEN PARTITION...: sum of the partitions' offsets at WHEN (-1 end, -2
# beginning), as `kcat -Q` prints them ("TOPIC [P] offset N" per partition).
arb__offsets() {
    arb__topic=$1
    arb__when=$2
    shift 2
    arb__n=$#
    for arb__p in "$@"; do
        set -- "$@" -t "$arb__topic:$arb__p:$arb__when"
        shift
    done
    arb__out=$(kcat -b "$arb__bootstrap" -Q "$@" 2>&1) ||
        arb_fail "arb_topic_count: kcat -Q failed on $arb__topic: $arb__out"
    printf '%s\n' "$arb__out" | awk -v n="$arb__n" '
        $(NF - 1) == "offset" && $NF ~ /^[0-9]+$/ { sum += $NF; seen++ }
        END { if (seen != n) exit 1; print sum }' ||
        arb_fail "arb_topic_count: unexpected kcat -Q output on $arb__topic: $arb__out"
}

# arb_bg NAME CMD [ARG...]: start CMD in the background, its stdout and stderr appended to
# $(arb_tmpdir)/NAME.log; it is stopped when the test exits. The same NAME may be started
# again after arb_stop (a restart), appending to the same log. Call it from the test's own
# shell (not inside $(...) or a pipeline), or arb_stop cannot wait for it.
arb_bg() {
    [ $# -ge 2 ] || arb_fail "arb_bg: usage: arb_bg NAME CMD [ARG...]"
    case $1 in *[!A-Za-z0-9_.-]* | .*) arb_fail "arb_bg: bad name '$1'" ;; esac
    if [ -f "$ARB_TMPDIR/.bg/$1" ] && arb__alive "$(cat "$ARB_TMPDIR/.bg/$1")"; then
        arb_fail "arb_bg: $1 is already running"
    fi
    arb__name=$1
    shift
    "$@" </dev/null >>"$ARB_TMPDIR/$arb__name.log" 2>&1 &
    printf '%s\n' "$!" >"$ARB_TMPDIR/.bg/$arb__name"
}

# arb_pid NAME: print the pid of the process arb_bg started as NAME (and arb_stop did not stop).
arb_pid() {
    arb__pid=$(cat "$ARB_TMPDIR/.bg/$1" 2>/dev/null || true)
    [ -n "$arb__pid" ] || arb_fail "arb_pid: no background process $1"
    printf '%s\n' "$arb__pid"
}

# arb_stop NAME [TIMEOUT_S]: SIGTERM the process, wait for it (SIGKILL after TIMEOUT_S,
# default 30) and return its exit status (143 if it died of the SIGTERM, 137 if killed). A
# non-zero status is also printed on stderr. With set -e: `rc=0; arb_stop bridge || rc=$?`.
arb_stop() {
    arb__pid=$(arb_pid "$1") || exit 1
    kill -TERM "$arb__pid" 2>/dev/null || true
    arb__deadline=$(($(arb__now) + ${2:-30}))
    while arb__alive "$arb__pid"; do
        if [ "$(arb__now)" -ge "$arb__deadline" ]; then
            printf 'arb_stop: %s (pid %s) still running after %s s: SIGKILL\n' \
                "$1" "$arb__pid" "${2:-30}" >&2
            kill -KILL "$arb__pid" 2>/dev/null || true
        fi
        sleep 0.1
    done
    arb__rc=0
    wait "$arb__pid" || arb__rc=$?
    : >"$ARB_TMPDIR/.bg/$1" # stopped: the name stays for the log tail on failure
    [ "$arb__rc" -eq 0 ] || printf 'arb_stop: %s exited with status %s\n' "$1" "$arb__rc" >&2
    return "$arb__rc"
}

# On exit: stop what arb_bg started, show its logs if the test failed, remove the temp dir.
arb__cleanup() {
    arb__status=$1
    trap - EXIT INT TERM
    set +eu
    for arb__f in "$ARB_TMPDIR"/.bg/*; do
        [ -f "$arb__f" ] || continue
        arb__pid=$(cat "$arb__f")
        arb__alive "$arb__pid" && kill -TERM "$arb__pid" 2>/dev/null
    done
    arb__deadline=$(($(arb__now) + 5))
    for arb__f in "$ARB_TMPDIR"/.bg/*; do
        [ -f "$arb__f" ] || continue
        arb__pid=$(cat "$arb__f")
        while arb__alive "$arb__pid" && [ "$(arb__now)" -lt "$arb__deadline" ]; do
            sleep 0.1
        done
        arb__alive "$arb__pid" && kill -KILL "$arb__pid" 2>/dev/null
    done
    if [ "$arb__status" -ne 0 ]; then
        for arb__f in "$ARB_TMPDIR"/.bg/*; do
            [ -f "$arb__f" ] || continue
            arb__name=${arb__f##*/}
            printf -- '----- %s: last lines of %s.log -----\n' "$ARB_TEST" "$arb__name" >&2
            tail -n 30 "$ARB_TMPDIR/$arb__name.log" >&2
        done
    fi
    if [ "${ARB_KEEP_TMP:-0}" = 1 ]; then
        printf '%s: kept %s\n' "$ARB_TEST" "$ARB_TMPDIR" >&2
    else
        rm -rf "$ARB_TMPDIR"
    fi
    exit "$arb__status"
}
trap 'arb__cleanup $?' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the product: a bridge, a sample desk and a replay, each with a generated config ----

ARB_SIGN_SECRET=${ARB_SIGN_SECRET:-bridge-secret-$(arb_unique s)}
DESK_SIGN_SECRET=${DESK_SIGN_SECRET:-desk-secret-$(arb_unique s)}
export ARB_SIGN_SECRET DESK_SIGN_SECRET

# arb_wait_ready URL [TIMEOUT_S [CURL_OPTION...]]: wait until URL (a /readyz) answers 200.
# CURL_OPTIONs are passed on, e.g. --cacert FILE.
arb_wait_ready() {
    arb__url=$1
    arb__deadline=$(($(arb__now) + ${2:-30}))
    arb__timeout=${2:-30}
    shift $(($# < 2 ? $# : 2))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$arb__url")" = 200 ]; do
        [ "$(arb__now)" -lt "$arb__deadline" ] ||
            arb_fail "arb_wait_ready: $arb__url not ready within $arb__timeout s"
        sleep 0.1
    done
}

# arb_start_bridge TOPIC DEADLETTER: start airudder-bridge as "bridge" on a free port, every
# event routed to TOPIC, signed with $ARB_SIGN_SECRET, with $ARB_BRIDGE_SETTINGS added to its
# config (e.g. "shutdown_timeout_s = 10;"); sets ARB_BRIDGE_URL (the events URL) and returns
# once it is ready. $ARB_BRIDGE_TLS, a directory holding cert.pem, key.pem and ca.pem, makes
# it serve HTTPS (then ARB_BRIDGE_URL is https:// and arb_post trusts ca.pem);
# $ARB_BRIDGE_KAFKA_PROPERTIES goes to its kafka.properties, and $ARB_PRODUCT_BOOTSTRAP
# replaces the shared broker's address, as in arb_replay_conf.
arb_start_bridge() {
    arb__port=$(arb_free_port)
    arb__scheme=http arb__tls='' arb__ca='' arb__props=''
    if [ -n "${ARB_BRIDGE_TLS:-}" ]; then
        arb__scheme=https
        arb__tls=" tls_cert = \"$ARB_BRIDGE_TLS/cert.pem\"; tls_key = \"$ARB_BRIDGE_TLS/key.pem\";"
        arb__ca=$ARB_BRIDGE_TLS/ca.pem
    fi
    [ -z "${ARB_BRIDGE_KAFKA_PROPERTIES:-}" ] ||
        arb__props=" properties = { $ARB_BRIDGE_KAFKA_PROPERTIES };"
    cat >"$ARB_TMPDIR/bridge.conf" <<CONF
http = { listen = "127.0.0.1:$arb__port";$arb__tls };
signature = { secrets = [ "\${ARB_SIGN_SECRET}" ]; };
kafka = { bootstrap = "${ARB_PRODUCT_BOOTSTRAP:-$(arb_bootstrap)}"; ack_timeout_ms = 10000;$arb__props };
routes = ( { event = "*"; topic = "$1"; } );
deadletter = { topic = "$2"; };
log = { level = "info"; format = "text"; };
${ARB_BRIDGE_SETTINGS:-}
CONF
    arb_bg bridge "$ARB_BUILD_DIR/airudder-bridge" -c "$ARB_TMPDIR/bridge.conf"
    ARB_BRIDGE_URL=$arb__scheme://127.0.0.1:$arb__port/v1/events
    arb_wait_ready "$arb__scheme://127.0.0.1:$arb__port/readyz" 30 ${arb__ca:+--cacert "$arb__ca"}
}

# arb_start_desk NAME [SAMPLE-DESK OPTION...]: start the sample desk as NAME on a free port,
# recording accepted events to $(arb_tmpdir)/NAME.out; sets ARB_DESK_URL and ARB_DESK_PORT.
# $ARB_DESK_TLS, a directory holding cert.pem, key.pem and ca.pem, makes it serve HTTPS.
arb_start_desk() {
    arb__name=$1
    shift
    ARB_DESK_PORT=$(arb_free_port)
    arb__scheme=http
    if [ -n "${ARB_DESK_TLS:-}" ]; then
        arb__scheme=https
        set -- --tls-cert "$ARB_DESK_TLS/cert.pem" --tls-key "$ARB_DESK_TLS/key.pem" "$@"
    fi
    arb_bg "$arb__name" "$ARB_BUILD_DIR/tests/desk/sample-desk" --listen "127.0.0.1:$ARB_DESK_PORT" \
        --out "$ARB_TMPDIR/$arb__name.out" "$@"
    ARB_DESK_URL=$arb__scheme://127.0.0.1:$ARB_DESK_PORT/events
    arb_wait_http "$arb__scheme://127.0.0.1:$ARB_DESK_PORT/healthz" 30 \
        ${ARB_DESK_TLS:+--cacert "$ARB_DESK_TLS/ca.pem"}
}

# arb_replay_conf FILE TOPIC DEADLETTER GROUP [LINE...]: write a replay config delivering
# TOPIC to $ARB_DESK_URL (signed with $DESK_SIGN_SECRET); each LINE is added to the desk
# group (e.g. "max_retry_s = 5;"), $ARB_REPLAY_SETTINGS to the replay group (e.g.
# "max_buffered = 16;") and $ARB_KAFKA_PROPERTIES to kafka.properties (e.g.
# "session_timeout_ms = 6000;"). ARB_ADMIN_URL gets the admin endpoint's base URL. The
# bootstrap is $ARB_PRODUCT_BOOTSTRAP when set (a test broker's SSL or SASL listener, say),
# else the shared broker's.
arb_replay_conf() {
    arb__file=$1 arb__topic=$2 arb__dlq=$3 arb__group=$4
    shift 4
    arb__admin=$(arb_free_port)
    export ARB_ADMIN_URL="http://127.0.0.1:$arb__admin"
    {
        printf 'kafka = { bootstrap = "%s"; properties = { %s }; };\n' \
            "${ARB_PRODUCT_BOOTSTRAP:-$(arb_bootstrap)}" "${ARB_KAFKA_PROPERTIES:-}"
        printf 'replay = { group = "%s"; topics = [ "%s" ]; admin_listen = "127.0.0.1:%s"; %s };\n' \
            "$arb__group" "$arb__topic" "$arb__admin" "${ARB_REPLAY_SETTINGS:-}"
        # shellcheck disable=SC2016 # ${DESK_SIGN_SECRET} is for the config loader to expand
        printf 'desk = { url = "%s"; signature = { secrets = [ "${DESK_SIGN_SECRET}" ]; };\n' \
            "$ARB_DESK_URL"
        for arb__line in "$@"; do printf '  %s\n' "$arb__line"; done
        printf '};\ndeadletter = { topic = "%s"; };\n' "$arb__dlq"
        printf 'log = { level = "info"; format = "text"; };\n'
    } >"$arb__file"
}

# arb_event CALL_ID COUNT FILE: write an event of conversation CALL_ID with COUNT messages,
# taken in turn from the documented example, their msg_id set to CALL_ID-<i>.
arb_event() {
    jq -c --arg call "$1" --argjson n "$2" \
        '.call_id = $call | .messages = [range($n) as $i | .messages[$i % 7] | .msg_id = "\($call)-\($i)"]' \
        "$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json" >"$3" ||
        arb_fail "arb_event: cannot write $3"
}

# arb_post FILE: POST FILE to $ARB_BRIDGE_URL signed with $ARB_SIGN_SECRET; fail unless 200.
arb_post() {
    arb__code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        ${ARB_BRIDGE_TLS:+--cacert "$ARB_BRIDGE_TLS/ca.pem"} \
        -H "X-AIRudder-Sign: $(arb_sign "$1" "$ARB_SIGN_SECRET")" --data-binary "@$1" \
        "$ARB_BRIDGE_URL") || true
    [ "$arb__code" = 200 ] || arb_fail "arb_post: $1 answered $arb__code"
}

# arb_lines FILE: print how many lines FILE has (0 when it does not exist yet).
arb_lines() {
    if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# arb_wait_lines FILE COUNT [TIMEOUT_S]: wait until FILE has at least COUNT lines.
arb_wait_lines() {
    arb__deadline=$(($(arb__now) + ${3:-60}))
    while [ "$(arb_lines "$1")" -lt "$2" ]; do
        [ "$(arb__now)" -lt "$arb__deadline" ] ||
            arb_fail "arb_wait_lines: $(arb_lines "$1") of $2 lines in $1 after ${3:-60} s"
        sleep 0.1
    done
}

# arb_metric URL NAME_AND_LABELS: print the value of one sample of a /metrics page (0 when
# absent), e.g. arb_metric "$ARB_ADMIN_URL/metrics" 'airudder_replay_deliveries_total{result="ok"}'.
arb_metric() {
    curl -s "$1" | awk -v name="$2" '$1 == name { print $2; found = 1 } END { if (!found) print 0 }'
}

# arb_jq_header NAME: print a jq filter giving the (last) value of header NAME of a kcat -J
# record, e.g. printf '%s' "$record" | jq -r "$(arb_jq_header airudder-dlq-reason)".
arb_jq_header() {
    # shellcheck disable=SC2016 # $h is jq's variable
    printf '.headers as $h | [range(0; $h | length; 2) | select($h[.] == "%s") | $h[. + 1]] | last' "$1"
}

# arb_group_offsets GROUP: print the offsets GROUP committed on the shared broker, one
# "TOPIC PARTITION OFFSET" line per partition, sorted.
arb_group_offsets() {
    "$ARB_KAFKA_SH" group-offsets "$ARB_KAFKA_DIR" "$1" 2>"$ARB_TMPDIR/.group-offsets.err" ||
        arb_fail "arb_group_offsets: $(cat "$ARB_TMPDIR/.group-offsets.err")"
}

# arb_as_dry_run: turn kcat -J lines (stdin) into airudder-replay --dry-run lines (stdout),
# keys sorted, so the two can be compared as text.
arb_as_dry_run() {
    jq -c -S '{topic, partition, offset, timestamp: .ts, key,
               headers: ((.headers // []) as $h | [range(0; $h | length; 2) | {key: $h[.], value: $h[. + 1]}] | from_entries),
               value: (.payload | fromjson? // .)}'
}
