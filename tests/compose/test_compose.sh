#!/bin/sh
# The container deployment, for real: the images built from docker/Dockerfile, and
# docker/docker-compose.yml brought up, used, restarted and taken down by a compose tool, as
# the README's Docker section tells a user to (its command blocks are run as written, see
# run_block). Black-box: everything goes through the published port, the compose tool and the
# engine.
#
#   1. scripts/container-images.sh --test-kafka: the base images when missing, the image
#      airudder-bridge:local, and the tests' Kafka image (tests/compose/kafka); sizes printed.
#   2. The image: runs as a non-root uid, has the HEALTHCHECK, holds no compiler, tool chain
#      or -dev package; its programs run in it.
#   3. With Docker's compose (v2 where Docker answers; else docker-compose 1.29 on podman's
#      Docker-compatible socket, which honours depends_on conditions and stop_grace_period as
#      Docker does): the README's start block; every healthcheck passes and `topics` exits 0;
#      the README's post block posts the signed seed event to 127.0.0.1:8080; its 7 records
#      are in Kafka (read with Kafka's own console consumer in the kafka container) in order,
#      in one partition, keyed by call_id; the desk container logs 7 signed deliveries in
#      order; the programs run as uid 10001. Then `restart bridge replay`: both healthy again,
#      a second event's 7 records and deliveries follow, nothing is delivered twice (the
#      group has committed the log end). Then the README's last block (logs, down): bridge,
#      replay and desk exit 0, no container of the project is left; the kafka-data volume is
#      (as documented), and goes with `down -v`.
#   4. With podman, also podman-compose, the README's podman block: up, healthy, the seed
#      event's 7 deliveries, docker/README.md's debug-mode `run`, down, clean exits.
#
# tests/compose/docker-compose.test.yml, the tests' override, only swaps the official Kafka
# image (no registry answers here) for the local one of the same version. The compose file
# publishes 127.0.0.1:8080 and :8081, so one run at a time per machine (a lock), and those
# ports must be free. Where podman runs without systemd, tests/compose/podman-healthchecks.sh
# runs the containers' healthchecks, as podman's systemd timers would.
#
# Exit 77 (CTest: skipped), saying why on stdout and stderr, when no container engine works.
# Figures are printed as "figure: NAME = VALUE" lines.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
src=$ARB_SOURCE_DIR
fixture=$src/tests/fixtures/channel.message.sent.json
override=tests/compose/docker-compose.test.yml
test_start=$(date +%s)

skip() {
    printf '\n******** SKIPPED: the container test did not run: %s ********\n\n' "$*" | tee /dev/stderr
    exit 77
}
figure() { printf 'figure: %s = %s\n' "$1" "$2"; }
# now_ms: milliseconds since the epoch.
now_ms() { date +%s%3N; }

engine=$("$src/scripts/container-images.sh" --engine 2>"$tmp/engine.err") ||
    skip "$(sed 's/^container-images.sh: ERROR: //' "$tmp/engine.err")"
echo "ok: container engine: $engine"

# One run per machine at a time (whatever TMPDIR each has): the compose file publishes fixed
# host ports.
lock=/tmp/airudder-compose-test.lock
exec 9>"$lock"
flock -w 1200 9 || arb_fail "another container test holds $lock"
# spawn NAME CMD...: arb_bg without the lock's descriptor, so nothing outlives the test holding it.
spawn() {
    name=$1
    shift
    arb_bg "$name" sh -c 'exec "$@" 9>&-' sh "$@"
}

# ---- 1. the images -----------------------------------------------------------------------

start=$(date +%s)
"$src/scripts/container-images.sh" --test-kafka >"$tmp/images.log" 2>&1 || {
    tail -n 40 "$tmp/images.log" >&2
    arb_fail "scripts/container-images.sh --test-kafka failed"
}
figure "images built (s, cached layers reused)" "$(($(date +%s) - start))"
image=airudder-bridge:local
kafka_version=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$src/tests/kafka/pom.xml")
kafka_image=localhost/airudder-test-kafka:$kafka_version
mb() { echo "$(($("$engine" image inspect --format '{{.Size}}' "$1") / 1000000)) MB"; }
figure "image $image" "$(mb "$image")"
figure "image $kafka_image (tests only)" "$(mb "$kafka_image")"
figure "image debian:bookworm-slim (base)" "$(mb debian:bookworm-slim)"

# The override names the local Kafka image of the version the compose file names.
grep -q "image: apache/kafka:$kafka_version\$" "$src/docker/docker-compose.yml" ||
    arb_fail "docker/docker-compose.yml does not name apache/kafka:$kafka_version (tests/kafka/pom.xml)"
arb_assert_eq 2 "$(grep -c "image: $kafka_image\$" "$src/$override")" "the override swaps kafka and topics to $kafka_image"

# ---- 2. the image ------------------------------------------------------------------------

user=$("$engine" image inspect --format '{{.Config.User}}' "$image")
case ${user%%:*} in '' | 0 | root) arb_fail "$image runs as root (User '$user')" ;; esac
uid=$("$engine" run --rm --no-healthcheck "$image" id -u 2>"$tmp/run.err") ||
    arb_fail "$engine run $image id -u: $(cat "$tmp/run.err")"
arb_assert_eq 10001 "$uid" "$image runs as uid 10001 (User $user)"
health=$("$engine" image inspect --format '{{json .Config.Healthcheck}}' "$image")
case $health in
*'"arb-healthcheck"'*'/healthz"'*) echo "ok: HEALTHCHECK in the image: $health" ;;
*) arb_fail "$image has no HEALTHCHECK running arb-healthcheck (got $health)" ;;
esac
# No compiler, linker, make or headers: the build stage's tools stay in the build stage.
# shellcheck disable=SC2016 # expanded by the container's shell
"$engine" run --rm --no-healthcheck "$image" sh -c '
    for tool in cc gcc c99 c89 cpp g++ clang tcc ld as make cmake pkg-config; do
        command -v "$tool" || true
    done
    dpkg-query -W -f "\${Package}\n" | grep -E -e "-dev(:|$)" -e "^(gcc|cpp|g\+\+|clang|binutils|make|cmake)(-[0-9.]+)?$" || true
' >"$tmp/compilers" 2>/dev/null
[ ! -s "$tmp/compilers" ] || arb_fail "$image holds build tools: $(tr '\n' ' ' <"$tmp/compilers")"
echo "ok: no compiler, linker, make or -dev package in $image"
for program in airudder-bridge airudder-replay; do
    out=$("$engine" run --rm --no-healthcheck "$image" "$program" -V 2>"$tmp/run.err") ||
        arb_fail "$program -V in $image: $(cat "$tmp/run.err")"
    echo "ok: $program -V in the image: $out"
done

# ---- the README's commands ---------------------------------------------------------------

# The blocks between <!-- docker-commands:begin --> and <!-- docker-commands:end -->, one file
# each ($tmp/block1.sh ...): 1 start with Docker, 2 start with podman, 3 post, 4 logs and down.
# docker/README.md must show the same ones.
blocks() {
    awk -v dir="$2" '/<!-- docker-commands:begin -->/ { on = 1; next }
         /<!-- docker-commands:end -->/ { on = 0 }
         on && /^```/ { if (inblock) { inblock = 0 } else { inblock = 1; n++ }; next }
         on && inblock { print > (dir "/block" n ".sh") }' "$1"
}
mkdir "$tmp/readme" "$tmp/docker-readme"
blocks "$src/README.md" "$tmp/readme"
blocks "$src/docker/README.md" "$tmp/docker-readme"
arb_assert_eq 4 "$(find "$tmp/readme" -name 'block*.sh' | wc -l)" "four command blocks in README.md's Docker section"
for n in 1 2 3 4; do
    cmp -s "$tmp/readme/block$n.sh" "$tmp/docker-readme/block$n.sh" ||
        arb_fail "block $n differs between README.md and docker/README.md"
done
echo "ok: docker/README.md shows the same commands"

# run_block N FROM TO [DROP]: run README block N in the source tree, as pasted into one shell
# session (the secrets it exports carry on to the next block), with the compose command FROM
# replaced by TO (the project name and the tests' override added) and the word DROP left out;
# its output in $tmp/blockN.out. Fails unless FROM is the only way the block calls compose.
run_block() {
    file=$tmp/readme/block$1.sh
    calls=$(grep -c -e 'docker compose' -e 'docker-compose' -e 'podman-compose' "$file" || true)
    if [ -z "${2:-}" ]; then
        arb_assert_eq 0 "$calls" "README block $1 calls no compose tool"
        cp "$file" "$tmp/run$1.sh"
    else
        mine=$(grep -c -F -- "$2" "$file" || true)
        arb_assert_eq "$calls" "$mine" "README block $1 calls compose only as '$2'"
        sed -e "s|$2|$3|g" ${4:+-e "s| $4||"} "$file" >"$tmp/run$1.sh"
    fi
    {
        [ ! -f "$tmp/session.env" ] || cat "$tmp/session.env"
        cat "$tmp/run$1.sh"
        # shellcheck disable=SC2016 # expanded by the session's shell
        printf '\nprintf "export AIRUDDER_SIGN_SECRET=%%s DESK_SIGN_SECRET=%%s\\n" "$AIRUDDER_SIGN_SECRET" "$DESK_SIGN_SECRET" >"%s"\n' \
            "$tmp/session.env"
    } >"$tmp/session$1.sh"
    (cd "$src" && sh -e "$tmp/session$1.sh") >"$tmp/block$1.out" 2>&1 || {
        tail -n 30 "$tmp/block$1.out" >&2
        arb_fail "README block $1 failed, as run: $(tr '\n' ';' <"$tmp/run$1.sh")"
    }
    echo "ok: README block $1 runs"
}

# ---- the deployment ----------------------------------------------------------------------

# containers PROJECT [SERVICE]: the ids of the project's containers (of one service).
containers() {
    "$engine" ps -aq --filter "label=com.docker.compose.project=$1" \
        ${2:+--filter "label=com.docker.compose.service=$2"}
}
# service_state PROJECT SERVICE: "STATUS HEALTH EXITCODE" of the service's container.
service_state() {
    id=$(containers "$1" "$2" | head -n 1)
    [ -n "$id" ] || { echo "absent"; return 0; }
    "$engine" inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.ExitCode}}' "$id"
}
# wait_healthy PROJECT TIMEOUT_S SERVICE...: wait until each service is running and healthy
# (topics: exited 0); fail on an unhealthy one, a topics exit other than 0, or the timeout.
wait_healthy() {
    project=$1 deadline=$(($(date +%s) + $2))
    shift 2
    while :; do
        pending=
        for service in "$@"; do
            state=$(service_state "$project" "$service")
            case $service:$state in
            topics:"exited "*" 0") ;;
            topics:"exited "*) arb_fail "topics exited with status ${state##* }: $(logs_of "$project" topics | tail -n 5)" ;;
            *:"running healthy "*) ;;
            *:*" unhealthy "*) arb_fail "$service is unhealthy: $(logs_of "$project" "$service" | tail -n 5)" ;;
            *) pending="$pending $service($state)" ;;
            esac
        done
        [ -n "$pending" ] || return 0
        [ "$(date +%s)" -lt "$deadline" ] || arb_fail "not healthy in time:$pending"
        sleep 0.5
    done
}
# logs_of PROJECT SERVICE: the service container's output.
logs_of() {
    id=$(containers "$1" "$2" | head -n 1)
    [ -z "$id" ] || "$engine" logs "$id" 2>&1
}
# deliveries PROJECT FILE: the desk's accepted events (its JSON lines) into FILE; print how many.
deliveries() {
    logs_of "$1" desk | grep '^{' >"$2" || true
    wc -l <"$2" | tr -d ' '
}
# wait_deliveries PROJECT COUNT TIMEOUT_S FILE
wait_deliveries() {
    deadline=$(($(date +%s) + $3))
    until [ "$(deliveries "$1" "$4")" -ge "$2" ]; do
        [ "$(date +%s)" -lt "$deadline" ] ||
            arb_fail "$(deliveries "$1" "$4") of $2 deliveries at the desk after $3 s"
        sleep 0.2
    done
}
# check_deliveries FILE FROM EVENT: lines FROM..FROM+6 of FILE are EVENT's 7 messages, each
# one event of its call_id, signature verified, in order: Idempotency-Key REQUEST:INDEX, one
# request id for the 7, index 0..6, the message's msg_id.
check_deliveries() {
    got=$(sed -n "$2,$(($2 + 6))p" "$1" | jq -s -c '
        {requests: ([.[].idempotency_key | split(":")[0]] | unique | length),
         messages: [.[] | [.signature_ok, .event.call_id, (.idempotency_key | split(":")[1]),
                           .event.messages[0].msg_id, (.event.messages | length)]]}')
    want=$(jq -c '.call_id as $c | {requests: 1,
        messages: [.messages | to_entries[] | [true, $c, "\(.key)", .value.msg_id, 1]]}' "$3")
    arb_assert_eq "$want" "$got" "the desk got $(jq -r .call_id "$3")'s 7 messages, signed, in order"
}
# check_records PROJECT COUNT EVENT...: Kafka's console consumer, in the kafka container, reads
# COUNT records of airudder.messages; each EVENT's 7 are there, in one partition, at
# consecutive offsets, keyed by its call_id, message_index 0..6 in order.
check_records() {
    project=$1 count=$2
    shift 2
    # shellcheck disable=SC2086 # $compose is a command and its arguments
    # A record's value keeps the sender's bytes, line breaks included: records end with an
    # ASCII record separator instead, and become one line each here.
    $compose exec -T kafka /opt/kafka/bin/kafka-console-consumer.sh --bootstrap-server kafka:9092 \
        --topic airudder.messages --from-beginning --max-messages "$count" --timeout-ms 30000 \
        --property print.partition=true --property print.offset=true --property print.key=true \
        --property "line.separator=$(printf '\036')" </dev/null \
        2>"$tmp/records.err" | tr '\n' ' ' | tr '\036' '\n' >"$tmp/records" || true
    arb_assert_eq "$count" "$(grep -c '^Partition:' "$tmp/records")" "$count records in airudder.messages (kafka-console-consumer)"
    for event in "$@"; do
        call=$(jq -r .call_id "$event")
        got=$(awk -F '\t' -v k="$call" '$3 == k' "$tmp/records" | while IFS="$(printf '\t')" read -r p o _ v; do
            printf '%s\n' "$v" | jq -c --arg p "${p#Partition:}" --arg o "${o#Offset:}" \
                '[($p | tonumber), ($o | tonumber), .message_index, .message.msg_id]'
        done | jq -s -c '{partitions: ([.[][0]] | unique | length),
                           consecutive: ([.[][1]] as $o | $o == [range($o[0]; $o[0] + ($o | length))]),
                           messages: [.[] | [.[2], .[3]]]}')
        want=$(jq -c '{partitions: 1, consecutive: true, messages: [.messages | to_entries[] | [.key, .value.msg_id]]}' "$event")
        arb_assert_eq "$want" "$got" "$call's 7 records: one partition, consecutive offsets, in order"
    done
}
# wait_committed TIMEOUT_S: wait until the replay's group has committed, on every partition
# of airudder.messages, the log end offset (Kafka's consumer-groups tool, in the kafka
# container).
wait_committed() {
    deadline=$(($(date +%s) + $1))
    while :; do
        # shellcheck disable=SC2086 # $compose is a command and its arguments
        $compose exec -T kafka /opt/kafka/bin/kafka-consumer-groups.sh --bootstrap-server kafka:9092 \
            --describe --group airudder-replay </dev/null >"$tmp/group" 2>&1 || echo "(exit $?)" >>"$tmp/group"
        # Columns: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...; an empty
        # partition has no committed offset ("-").
        awk '$2 == "airudder.messages" && $3 ~ /^[0-9]+$/ { n++; if ($4 != $5 && !($4 == "-" && $5 == 0)) behind++ }
             END { exit !(n == 3 && behind == 0) }' "$tmp/group" && return 0
        [ "$(date +%s)" -lt "$deadline" ] || arb_fail "the replay has not committed everything: $(cat "$tmp/group")"
        sleep 1
    done
}
# port_listening PORT: does anything listen on the TCP port (IPv4 or IPv6)?
port_listening() {
    awk -v s="$(printf ':%04X' "$1")" 'substr($2, length($2) - 4) == s && $4 == "0A" { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# remove PROJECT: whatever of the project is left: containers, volumes, networks.
remove() {
    for id in $(containers "$1"); do "$engine" rm -f -t 5 "$id" >/dev/null 2>&1 || true; done
    for v in $("$engine" volume ls -q --filter "label=com.docker.compose.project=$1" 2>/dev/null); do
        "$engine" volume rm -f "$v" >/dev/null 2>&1 || true
    done
    for n in $("$engine" network ls -q --filter "label=com.docker.compose.project=$1" 2>/dev/null); do
        "$engine" network rm "$n" >/dev/null 2>&1 || true
    done
}
# watch_stops PROJECT: note, in $tmp/died-PROJECT, each container of the project that stops
# and its exit status (podman's events); check_stops PROJECT then prints them and fails unless
# bridge, replay and desk stopped cleanly (0: a SIGKILL after the grace period is 137).
watch_stops() {
    [ "$engine" = podman ] || return 0
    spawn "died-$1" podman events --filter event=died --filter "label=com.docker.compose.project=$1" \
        --format '{{.Name}} {{.ContainerExitCode}}'
}
check_stops() {
    [ "$engine" = podman ] || return 0
    for service in bridge replay desk kafka; do
        deadline=$(($(date +%s) + 10))
        until grep -q "^$1_${service}_1 " "$tmp/died-$1.log" 2>/dev/null; do
            [ "$(date +%s)" -lt "$deadline" ] || arb_fail "no stop of $service in podman's events"
            sleep 0.2
        done
        code=$(sed -n "s/^$1_${service}_1 //p" "$tmp/died-$1.log" | tail -n 1)
        figure "exit status of $service at down" "$code"
        [ "$service" = kafka ] || arb_assert_eq 0 "$code" "$service stopped cleanly at down"
    done
}
# show_logs PROJECT: the last lines of every container of the project (after a failure).
show_logs() {
    for service in kafka topics desk bridge replay; do
        printf -- '----- %s: last lines of %s -----\n' "$1" "$service" >&2
        logs_of "$1" "$service" | tail -n 25 >&2
    done
}

# The compose tool for the Docker block.
project=arbcompose
case $engine in
docker)
    if docker compose version >/dev/null 2>&1; then dc='docker compose'; else dc=docker-compose; fi
    ;;
podman)
    command -v docker-compose >/dev/null 2>&1 ||
        arb_fail "no docker-compose (scripts/install-deps.sh installs Debian's)"
    dc=docker-compose
    sock=$tmp/podman.sock
    spawn podman-service podman system service --time=0 "unix://$sock"
    deadline=$(($(date +%s) + 30))
    until curl -s -o /dev/null --unix-socket "$sock" http://d/_ping; do
        [ "$(date +%s)" -lt "$deadline" ] || arb_fail "podman system service: no answer on $sock"
        sleep 0.2
    done
    export DOCKER_HOST="unix://$sock"
    [ -d /run/systemd/system ] || spawn healthchecks "$src/tests/compose/podman-healthchecks.sh" "$project"
    ;;
esac
compose="$dc -p $project -f docker/docker-compose.yml -f $override"
echo "ok: compose tool: $dc$([ "$engine" = podman ] && echo " on podman's Docker-compatible socket")"

# Leftovers of an interrupted run, then the ports the compose file publishes.
remove "$project"
remove arbcomposepc
for port in 8080 8081; do
    ! port_listening "$port" || arb_fail "127.0.0.1:$port is in use here: docker/docker-compose.yml publishes it"
done

# flow_docker: step 3. Run in a subshell: whatever happens, everything is removed after it.
flow_docker() {
    cd "$src" || exit 1
    start=$(now_ms)
    run_block 1 'docker compose -f docker/docker-compose.yml' "$compose" --build
    # The rest of this "session" has the secrets block 1 exported (compose needs them to read
    # the file: without them, `exec` exits 1 and says nothing).
    # shellcheck source=/dev/null
    . "$tmp/session.env"
    wait_healthy "$project" 300 kafka topics desk bridge replay
    figure "compose up to every service healthy (s)" "$((($(now_ms) - start) / 1000))"
    for service in bridge replay; do
        # shellcheck disable=SC2086 # $compose is a command and its arguments
        uid=$($compose exec -T "$service" id -u </dev/null 2>"$tmp/exec.err") ||
            arb_fail "exec $service id -u: $(cat "$tmp/exec.err")"
        arb_assert_eq 10001 "$uid" "the $service runs as uid 10001"
    done

    start=$(now_ms)
    run_block 3
    grep -q 'HTTP 200' "$tmp/block3.out" || arb_fail "the post answered: $(cat "$tmp/block3.out")"
    wait_deliveries "$project" 7 60 "$tmp/desk"
    figure "seed event: POST to its 7th delivery at the desk (ms)" "$(($(now_ms) - start))"
    check_deliveries "$tmp/desk" 1 "$fixture"
    check_records "$project" 7 "$fixture"

    start=$(now_ms)
    $compose restart bridge replay >"$tmp/restart.log" 2>&1 || arb_fail "restart: $(cat "$tmp/restart.log")"
    wait_healthy "$project" 120 bridge replay
    arb_wait_ready http://127.0.0.1:8080/readyz 60
    arb_wait_ready http://127.0.0.1:8081/readyz 60
    figure "restart bridge replay to both ready (s)" "$((($(now_ms) - start) / 1000))"
    second=$tmp/second.json
    arb_event "$(arb_unique restarted)" 7 "$second"
    ARB_SIGN_SECRET=$AIRUDDER_SIGN_SECRET ARB_BRIDGE_URL=http://127.0.0.1:8080/v1/events arb_post "$second"
    wait_deliveries "$project" 14 60 "$tmp/desk"
    check_deliveries "$tmp/desk" 8 "$second"
    check_deliveries "$tmp/desk" 1 "$fixture"
    check_records "$project" 14 "$fixture" "$second"
    # Once the group has committed every record, no delivery can follow: 14 is all of them.
    wait_committed 60
    arb_assert_eq 14 "$(deliveries "$project" "$tmp/desk")" "14 deliveries, none twice, across the restart"

    # podman drops a container's healthcheck timer when it stops; stop playing the timers too,
    # so no healthcheck exec races the stop.
    [ -d /run/systemd/system ] || [ "$engine" != podman ] || arb_stop healthchecks 5 2>/dev/null || true
    watch_stops "$project"
    start=$(now_ms)
    run_block 4 'docker compose -f docker/docker-compose.yml' "$compose"
    figure "compose down (s)" "$((($(now_ms) - start) / 1000))"
    check_stops "$project"
    arb_assert_eq 14 "$(grep -c '"signature_ok":true' "$tmp/block4.out")" "README's logs command shows the 14 deliveries"
    arb_assert_eq "" "$(containers "$project")" "no container of the project is left after down"
    [ -n "$("$engine" volume ls -q --filter "label=com.docker.compose.project=$project")" ] ||
        arb_fail "down removed the kafka-data volume (it keeps it: down -v removes it)"
    $compose down -v >"$tmp/down-v.log" 2>&1 || arb_fail "down -v: $(cat "$tmp/down-v.log")"
    arb_assert_eq "" "$("$engine" volume ls -q --filter "label=com.docker.compose.project=$project")" "down -v removes the volume"
}

# flow_podman_compose: step 4, the README's podman block with podman-compose.
flow_podman_compose() {
    cd "$src" || exit 1
    pc="podman-compose -p arbcomposepc -f docker/docker-compose.yml -f $override"
    [ -d /run/systemd/system ] || spawn healthchecks-pc "$src/tests/compose/podman-healthchecks.sh" arbcomposepc
    start=$(now_ms)
    run_block 2 'podman-compose -f docker/docker-compose.yml' "$pc"
    # shellcheck source=/dev/null
    . "$tmp/session.env"
    wait_healthy arbcomposepc 300 kafka topics desk bridge replay
    figure "podman-compose up to every service healthy (s)" "$((($(now_ms) - start) / 1000))"
    start=$(now_ms)
    run_block 3
    grep -q 'HTTP 200' "$tmp/block3.out" || arb_fail "the post answered: $(cat "$tmp/block3.out")"
    wait_deliveries arbcomposepc 7 60 "$tmp/desk-pc"
    figure "podman-compose: seed event to its 7th delivery (ms)" "$(($(now_ms) - start))"
    check_deliveries "$tmp/desk-pc" 1 "$fixture"
    # docker/README.md's debug-mode command, in a one-off container on the compose network
    # (podman-compose: docker-compose 1.29 on podman 4.3's socket cannot `run`, see there).
    # shellcheck disable=SC2086 # $pc is a command and its arguments
    $pc run --rm -T replay airudder-replay -c /etc/airudder/airudder-replay.conf \
        --dry-run --from-beginning --limit 10 </dev/null >"$tmp/dry-run" 2>"$tmp/dry-run.err" ||
        arb_fail "run replay --dry-run: $(tail -n 5 "$tmp/dry-run.err")"
    arb_assert_eq "$(jq -c '[.messages[].msg_id]' "$fixture")" \
        "$(grep '^{' "$tmp/dry-run" | jq -s -c '[.[].value.message.msg_id]')" \
        "run replay --dry-run prints the seed event's 7 records"
    [ -d /run/systemd/system ] || arb_stop healthchecks-pc 5 2>/dev/null || true
    watch_stops arbcomposepc
    start=$(now_ms)
    run_block 4 'docker compose -f docker/docker-compose.yml' "$pc"
    figure "podman-compose down (s)" "$((($(now_ms) - start) / 1000))"
    check_stops arbcomposepc
    arb_assert_eq 7 "$(grep -c '"signature_ok":true' "$tmp/block4.out")" "podman-compose logs desk shows the 7 deliveries"
    arb_assert_eq "" "$(containers arbcomposepc)" "no container is left after podman-compose down"
}

rc=0
(flow_docker) || rc=$?
[ "$rc" -eq 0 ] || show_logs "$project"
remove "$project"
if [ "$rc" -eq 0 ] && [ "$engine" = podman ]; then
    rm -f "$tmp/session.env"
    (flow_podman_compose) || rc=$?
    [ "$rc" -eq 0 ] || show_logs arbcomposepc
    remove arbcomposepc
fi
[ "$rc" -eq 0 ] || exit "$rc"
figure "whole test (s)" "$(($(date +%s) - test_start))"
arb_pass "images built and checked; the compose deployment carried the seed event, a restart and a down"
