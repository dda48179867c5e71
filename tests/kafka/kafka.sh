#!/bin/sh
# kafka.sh: the real Kafka broker the tests run against. One KRaft node that is both broker
# and controller, on loopback, whose files all live in one directory. The jars come from Maven
# (tests/kafka/pom.xml), so the version is pinned there and nothing is vendored.
#
#   kafka.sh fetch                               resolve the jars into the cache (idempotent)
#   kafka.sh start DIR [PORT]                    start a broker in DIR; PORT default: a free one
#   kafka.sh stop DIR                            SIGTERM, SIGKILL after 30 s; ok if not running
#   kafka.sh create-topic DIR TOPIC PARTITIONS   create a topic unless it exists, wait for leaders
#   kafka.sh bootstrap DIR                       print the bootstrap address, 127.0.0.1:PORT
#   kafka.sh group-offsets DIR GROUP             print "TOPIC PARTITION OFFSET" lines: the
#                                                offsets GROUP committed, sorted ("-" = none)
#
# Cluster mode: three KRaft nodes, each broker and controller, in DIR/node1..3 (see below).
#   kafka.sh cluster-start DIR                   start the three nodes (those not running)
#   kafka.sh cluster-stop DIR                    stop them all (SIGKILL after 10 s)
#   kafka.sh node-kill DIR N...                  SIGKILL the nodes N... at once
#   kafka.sh node-freeze DIR N / node-thaw DIR N SIGSTOP / SIGCONT node N
#   kafka.sh node-stop DIR N                     SIGTERM node N (controlled shutdown), wait
#   kafka.sh node-start DIR N...                 start the nodes again together, wait for them
#   kafka.sh node-restart DIR N                  node-stop, then node-start
#   kafka.sh leader DIR TOPIC PARTITION          print the node id leading the partition
#   kafka.sh wait-isr DIR [TIMEOUT_S]            wait (default 120 s) until all three nodes
#                                                are up and every partition of every topic
#                                                has a leader and all its replicas in sync
# start/stop, create-topic, bootstrap and group-offsets also take a cluster's DIR (stop = all).
#
# DIR holds server.properties, log4j2.properties, tools-log4j2.properties, port,
# controller-port, data/ (the log dir), pid, broker.log and bootstrap. A second `start DIR`
# after `stop DIR` reuses the ports and the data, so clients reconnect to the same address.
#
# A cluster's DIR holds cluster (the marker), cluster-id, bootstrap (all three addresses) and
# node1..3, each laid out like a single node's DIR. The nodes are on loopback with ports of
# their own, default.replication.factor=3, min.insync.replicas=2,
# unclean.leader.election.enable=false; a restarted node keeps its ports and data. Heaps are
# small (ARB_KAFKA_HEAP, default 320m here) and the JVMs tuned for a small machine: two cores
# run the three nodes, the bridge, the replay and the load.
#
# Environment: ARB_KAFKA_CACHE (jar cache, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/airudder-bridge/kafka-<version>), ARB_KAFKA_HEAP (broker
# -Xmx, default 512m; 320m per cluster node), JAVA (default java), MVN (default mvn), KCAT
# (default kcat).
#
# Extra listeners for the clients' security settings, read by `start` (the PLAINTEXT listener
# stays, for the harness's own tools):
#   ARB_KAFKA_SSL_DIR=D          an SSL listener (server-only TLS) with D/cert.pem and its
#                                unencrypted key D/key.pem; its address in DIR/bootstrap-ssl
#   ARB_KAFKA_SASL_PLAIN=U:P     a SASL_PLAINTEXT listener accepting the one PLAIN user U with
#                                password P; its address in DIR/bootstrap-sasl
# Their ports are kept in DIR/ssl-port and DIR/sasl-port, like the others.
# Needs Java 17+, Maven (only while the cache is cold), kcat, and Linux (/proc).
set -eu
cluster=0  # 1 while acting on a node of a cluster
node_id=1  # that node's id
replicas=1 # replication factor of the topics ensure_topic creates
stop_wait=30
sslport='' saslport='' # the extra listeners, single node only

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
pom=$here/pom.xml
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
KCAT=${KCAT:-kcat}

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() {
    printf 'kafka.sh: ERROR: %s\n' "$*" >&2
    exit 1
}
usage() {
    sed -n '6,28s/^# *//p' "$0" >&2
    exit 2
}

version=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$pom")
[ -n "$version" ] || die "no <kafka.version> in $pom"
cache=${ARB_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/airudder-bridge/kafka-$version}
libs=$cache/libs
stamp=$cache/libs.stamp

is_uint() {
    case $1 in '' | *[!0-9]*) return 1 ;; esac
}

need_java() {
    command -v "$JAVA" >/dev/null 2>&1 ||
        die "no Java runtime ('$JAVA' not found): the Kafka broker needs Java 17+; run scripts/install-deps.sh"
    major=$("$JAVA" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
    is_uint "$major" || die "cannot tell the version of '$JAVA'"
    [ "$major" -ge 17 ] || die "Java $major is too old: Kafka $version needs Java 17+"
}

# mvn_copy TMP [MAVEN_ARG...]: copy the pom's dependencies into TMP/libs; the output goes
# to TMP/mvn.log (appended, so a failed retry keeps the first error too).
mvn_copy() {
    mvn_tmp=$1
    shift
    rm -rf "$mvn_tmp/libs"
    printf '$ %s %s ... copy-dependencies\n' "$MVN" "$*" >>"$mvn_tmp/mvn.log"
    "$MVN" "$@" -q -B -Dstyle.color=never -f "$pom" -Darb.build.dir="$mvn_tmp/build" \
        org.apache.maven.plugins:maven-dependency-plugin:copy-dependencies \
        -Dmdep.includeScope=runtime -DoutputDirectory="$mvn_tmp/libs" >>"$mvn_tmp/mvn.log" 2>&1
}

# fetch: copy the broker jars and their dependencies into $libs. The stamp holds the checksum
# of the pom the jars came from, so a warm cache costs no JVM and an edited pom refetches.
fetch() {
    sum=$(cksum <"$pom")
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] &&
        [ -f "$libs/kafka_2.13-$version.jar" ]; then
        say "Kafka $version jars cached in $libs"
        return 0
    fi
    need_java
    command -v "$MVN" >/dev/null 2>&1 ||
        die "no Maven ('$MVN' not found): it fetches the Kafka $version jars; run scripts/install-deps.sh"
    say "fetching Kafka $version jars with Maven into $libs"
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/fetch.XXXXXX")
    # Online first; if that fails (no network), once more offline: a warm ~/.m2 suffices.
    if ! mvn_copy "$tmp" && ! mvn_copy "$tmp" -o; then
        cat "$tmp/mvn.log" >&2
        rm -rf "$tmp"
        die "Maven could not resolve Kafka $version (see above); it needs Maven Central or the jars in ~/.m2"
    fi
    [ -f "$tmp/libs/kafka_2.13-$version.jar" ] || {
        rm -rf "$tmp"
        die "Maven ran but produced no kafka_2.13-$version.jar"
    }
    # Another fetch may have finished meanwhile: keep its jars, a broker may be using them.
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
        rm -rf "$tmp"
        return 0
    fi
    rm -f "$stamp"
    rm -rf "$libs"
    mv "$tmp/libs" "$libs"
    rm -rf "$tmp"
    printf '%s\n' "$sum" >"$stamp"
    say "fetched $(find "$libs" -name '*.jar' | wc -l) jars"
}

# A pid file names our broker only while that process runs with DIR's server.properties
# (a stale file, a reused pid or a zombie all read as "not running").
broker_pid() {
    [ -f "$dir/pid" ] || return 1
    pid=$(cat "$dir/pid")
    is_uint "$pid" || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF "$dir/server.properties" || return 1
    printf '%s\n' "$pid"
}

# port_in_use PORT [listen]: is any TCP socket (IPv4 or IPv6, in any state; with "listen",
# only a listening one) bound to this local port? A restart only asks about listeners: the
# sockets a killed broker leaves in TIME_WAIT do not stop it from binding its port again.
port_in_use() {
    awk -v suffix="$(printf ':%04X' "$1")" -v listen="${2:-}" '
        substr($2, length($2) - 4) == suffix && (listen == "" || $4 == "0A") { found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_port [TAKEN...]: a free port below the ephemeral range (32768+), so outgoing
# connections never take it, and none of TAKEN.
free_port() {
    tries=0
    while [ "$tries" -lt 200 ]; do
        candidate=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
        case " $* " in *" $candidate "*) candidate= ;; esac
        if [ -n "$candidate" ] && ! port_in_use "$candidate"; then
            printf '%s\n' "$candidate"
            return 0
        fi
        tries=$((tries + 1))
    done
    die "no free loopback port found"
}

# A Kafka cluster id: 16 random bytes, base64url without padding, not starting with '-'.
cluster_id() {
    while :; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
        case $id in -*) ;; *) break ;; esac
    done
    printf '%s\n' "$id"
}

write_tools_log4j() {
    cat >"$dir/tools-log4j2.properties" <<'EOF'
# Written by tests/kafka/kafka.sh: the command-line tools log errors only.
status = error
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %m (%c)%n
rootLogger.level = ERROR
rootLogger.appenderRef.stderr.ref = STDERR
EOF
}

write_config() {
    listeners=PLAINTEXT://127.0.0.1:$port
    protocols=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
    if [ -n "$sslport" ]; then
        listeners=$listeners,SSL://127.0.0.1:$sslport
        protocols=$protocols,SSL:SSL
    fi
    if [ -n "$saslport" ]; then
        listeners=$listeners,SASL_PLAINTEXT://127.0.0.1:$saslport
        protocols=$protocols,SASL_PLAINTEXT:SASL_PLAINTEXT
    fi
    if [ "$cluster" = 1 ]; then
        write_cluster_config
        return 0
    fi
    cat >"$dir/server.properties" <<EOF
# Written by tests/kafka/kafka.sh (rewritten on every start): one KRaft node, broker and
# controller in one process, on loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# Topics exist only when a test or kafka.sh creates them: a typo fails instead of creating one.
auto.create.topics.enable=false
num.partitions=1
# One node: internal topics have one replica; few partitions so the first group joins fast.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a crash (kill -9) the controller waits for the dead node's session to expire before
# the restarted node can register: 4 s instead of 9 s.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
EOF
    write_security_config >>"$dir/server.properties"
    write_log4j
}

# Node $node_id of the cluster: $voters lists the three controllers.
write_cluster_config() {
    cat >"$dir/server.properties" <<EOF
# Written by tests/kafka/kafka.sh (rewritten on every start): node $node_id of a three-node
# KRaft cluster, each node broker and controller in one process, on loopback only.
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=3
# Durability as in production: three replicas, a write needs two of them in sync, and a
# replica that was not in sync never becomes leader.
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
# A killed or frozen node is fenced (its partitions get new leaders, it leaves their ISR)
# after broker.session.timeout.ms without a heartbeat: Kafka's default, 9 s, as in
# production, so a fault lasts as long as it would there (ARB_KAFKA_SESSION_MS changes it).
broker.session.timeout.ms=${ARB_KAFKA_SESSION_MS:-9000}
broker.heartbeat.interval.ms=2000
# Few threads: three nodes share two cores with the bridge, the replay and the load.
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.threads=1
num.recovery.threads.per.data.dir=1
EOF
    write_log4j
}

write_log4j() {
    cat >"$dir/log4j2.properties" <<'EOF'
# Written by tests/kafka/kafka.sh: warnings and errors, plus the line saying the node started.
status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.raftserver.name = kafka.server.KafkaRaftServer
logger.raftserver.level = INFO
EOF
    write_tools_log4j
}

# A PEM file as one property value: its lines joined by \n escapes, which the properties
# format turns back into newlines. (A PEM keystore file would need an encrypted key.)
pem_property() {
    awk '{ printf "%s\\n", $0 }' "$1"
}

# The settings of the SSL and SASL_PLAINTEXT listeners, when asked for.
write_security_config() {
    if [ -n "$sslport" ]; then
        cat <<EOF
# SSL (ARB_KAFKA_SSL_DIR=$ARB_KAFKA_SSL_DIR): server-only TLS, no client certificates.
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.certificate.chain=$(pem_property "$ARB_KAFKA_SSL_DIR/cert.pem")
listener.name.ssl.ssl.keystore.key=$(pem_property "$ARB_KAFKA_SSL_DIR/key.pem")
EOF
    fi
    if [ -n "$saslport" ]; then
        cat <<EOF
# SASL_PLAINTEXT (ARB_KAFKA_SASL_PLAIN): the PLAIN mechanism, one user.
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
EOF
    fi
}

# Check ARB_KAFKA_SSL_DIR and ARB_KAFKA_SASL_PLAIN, and pick the ports of the listeners they
# ask for ("" when not asked for): those of the previous start in DIR, else fresh free ones.
extra_listeners() {
    sslport=
    saslport=
    if [ -n "${ARB_KAFKA_SSL_DIR:-}" ]; then
        for f in cert.pem key.pem; do
            [ -r "$ARB_KAFKA_SSL_DIR/$f" ] || die "ARB_KAFKA_SSL_DIR: cannot read $ARB_KAFKA_SSL_DIR/$f"
        done
        sslport=$(cat "$dir/ssl-port" 2>/dev/null || true)
        [ -n "$sslport" ] || sslport=$(free_port "$port" "$cport")
    fi
    if [ -n "${ARB_KAFKA_SASL_PLAIN:-}" ]; then
        sasl_user=${ARB_KAFKA_SASL_PLAIN%%:*}
        sasl_password=${ARB_KAFKA_SASL_PLAIN#*:}
        case $sasl_user in '' | *[!A-Za-z0-9_.-]* | "$ARB_KAFKA_SASL_PLAIN") # the last: no ':'
            die "ARB_KAFKA_SASL_PLAIN: expected USER:PASSWORD, USER of letters, digits, '_', '.', '-'" ;;
        esac
        case $sasl_password in *[\"\\]*)
            die "ARB_KAFKA_SASL_PLAIN: the password may not hold '\"' or '\\'" ;;
        esac
        saslport=$(cat "$dir/sasl-port" 2>/dev/null || true)
        [ -n "$saslport" ] || saslport=$(free_port "$port" "$cport" "$sslport")
    fi
}

# Run a Kafka command-line tool: a short-lived JVM, tuned to start fast.
kafka_tool() {
    "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$dir/tools-log4j2.properties" -cp "$libs/*" "$@"
}

# Does the broker on $port answer a metadata request and list itself? (A cluster node lists
# itself once the controller has registered and unfenced it.)
broker_answers() {
    if [ "$cluster" = 1 ]; then
        "$KCAT" -b "127.0.0.1:$port" -L -m 1 2>/dev/null |
            grep -q "^ *broker $node_id at 127\.0\.0\.1:$port"
    else
        "$KCAT" -b "127.0.0.1:$port" -L -m 1 2>/dev/null | grep -q '^ *1 brokers:'
    fi
}

# Start the broker's JVM in the background. A cluster node gets a smaller heap, the serial
# collector and the client compiler only: less memory, fewer threads, less CPU at start.
launch_jvm() {
    printf '=== kafka.sh start %s: Kafka %s on 127.0.0.1:%s (controller %s)\n' \
        "$(date '+%Y-%m-%d %H:%M:%S')" "$version" "$port" "$cport" >>"$dir/broker.log"
    if [ "$cluster" = 1 ]; then
        set -- "-Xmx${ARB_KAFKA_HEAP:-320m}" -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    else
        set -- "-Xmx${ARB_KAFKA_HEAP:-512m}"
    fi
    "$JAVA" "$@" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$libs/*" \
        kafka.Kafka "$dir/server.properties" </dev/null >>"$dir/broker.log" 2>&1 &
    printf '%s\n' "$!" >"$dir/pid"
    say "broker started (pid $!), waiting for 127.0.0.1:$port to answer"
}

# Launch the broker and wait until it answers. Returns 2 if a port was taken under us.
launch() {
    launch_jvm
    await_broker 60
}

# await_broker TIMEOUT_S: wait until the broker launched in $dir answers. Returns 2 if a port
# was taken under us.
await_broker() {
    start_s=$(date +%s)
    while ! broker_answers; do
        if ! broker_pid >/dev/null; then
            rm -f "$dir/pid"
            if tail -n 50 "$dir/broker.log" | grep -q 'Address already in use'; then
                return 2
            fi
            say "the broker exited during start; last lines of $dir/broker.log:"
            tail -n 40 "$dir/broker.log" >&2
            die "Kafka broker in $dir did not start"
        fi
        if [ $(($(date +%s) - start_s)) -ge "$1" ]; then
            say "no answer from 127.0.0.1:$port after $1 s; last lines of $dir/broker.log:"
            tail -n 40 "$dir/broker.log" >&2
            stop_broker
            die "Kafka broker in $dir did not answer within $1 s"
        fi
        sleep 0.2
    done
    say "broker answers on 127.0.0.1:$port after $(($(date +%s) - start_s)) s"
}

# Create TOPIC with PARTITIONS partitions unless it exists; then wait until every partition
# has a leader, so a producer started next finds it. An existing topic with another partition
# count is an error.
ensure_topic() {
    topic=$1
    partitions=$2
    bootstrap=127.0.0.1:$port
    if have=$(topic_partitions "$topic"); then
        [ "$have" = "$partitions" ] ||
            die "topic $topic exists with $have partitions, not $partitions"
        say "topic $topic exists ($have partitions)"
        return 0
    fi
    say "creating topic $topic ($partitions partitions)"
    out=$(kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
        --create --if-not-exists --topic "$topic" --partitions "$partitions" \
        --replication-factor "$replicas" 2>&1) || {
        printf '%s\n' "$out" >&2
        die "could not create topic $topic"
    }
    start_s=$(date +%s)
    until have=$(topic_partitions "$topic"); do
        [ $(($(date +%s) - start_s)) -lt 30 ] || die "topic $topic has no leaders after 30 s"
        sleep 0.1
    done
    [ "$have" = "$partitions" ] || die "topic $topic exists with $have partitions, not $partitions"
}

# Print the partition count of TOPIC if it exists and every partition has a leader.
topic_partitions() {
    md=$("$KCAT" -b "127.0.0.1:$port" -L -t "$1" -m 5 2>/dev/null) || return 1
    printf '%s\n' "$md" | grep -q 'error:\|leader -1' && return 1
    printf '%s\n' "$md" | sed -n 's/^ *topic ".*" with \([0-9]*\) partitions:$/\1/p' | grep .
}

stop_broker() {
    pid=$(broker_pid) || {
        rm -f "$dir/pid"
        say "no broker running in $dir"
        return 0
    }
    say "stopping broker in $dir (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    start_s=$(date +%s)
    while broker_pid >/dev/null; do
        if [ $(($(date +%s) - start_s)) -ge "$stop_wait" ]; then
            say "broker pid $pid still running after $stop_wait s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    rm -f "$dir/pid"
    say "broker stopped after $(($(date +%s) - start_s)) s"
}

set_dir() {
    [ -n "${1:-}" ] || usage
    [ -d "$1" ] || die "$1: no such directory"
    dir=$(CDPATH='' cd -- "$1" && pwd)
}

cmd_start() {
    [ -n "${1:-}" ] || usage
    [ ! -f "$1/cluster" ] || die "$1 holds a cluster: use cluster-start"
    if [ -n "${2:-}" ]; then
        if ! is_uint "$2" || [ "$2" -eq 0 ] || [ "$2" -gt 65535 ]; then die "bad port: $2"; fi
    fi
    mkdir -p "$1"
    set_dir "$1"
    if pid=$(broker_pid); then
        say "broker already running in $dir at $(cat "$dir/bootstrap" 2>/dev/null) (pid $pid)"
        return 0
    fi
    need_java
    command -v "$KCAT" >/dev/null 2>&1 || die "no kcat ('$KCAT' not found); run scripts/install-deps.sh"
    fetch

    # Ports: as given, else those of the previous start in DIR, else fresh free ones.
    fresh=0
    port=${2:-$(cat "$dir/port" 2>/dev/null || true)}
    cport=$(cat "$dir/controller-port" 2>/dev/null || true)
    [ -n "$port" ] || fresh=1
    [ -n "$port" ] || port=$(free_port)
    [ -n "$cport" ] && [ "$cport" != "$port" ] || cport=$(free_port "$port")
    extra_listeners
    for p in "$port" "$cport" ${sslport:+"$sslport"} ${saslport:+"$saslport"}; do
        ! port_in_use "$p" listen || die "port $p is in use; is another broker using $dir's ports?"
    done

    attempt=1
    while :; do
        printf '%s\n' "$port" >"$dir/port"
        printf '%s\n' "$cport" >"$dir/controller-port"
        [ -z "$sslport" ] || printf '%s\n' "$sslport" >"$dir/ssl-port"
        [ -z "$saslport" ] || printf '%s\n' "$saslport" >"$dir/sasl-port"
        write_config
        if [ ! -f "$dir/data/meta.properties" ]; then
            say "formatting storage in $dir/data"
            out=$(kafka_tool kafka.tools.StorageTool format -t "$(cluster_id)" \
                -c "$dir/server.properties" 2>&1) || {
                printf '%s\n' "$out" >&2
                die "could not format $dir/data"
            }
        fi
        rc=0
        launch || rc=$?
        [ "$rc" -eq 0 ] && break
        # Only ports picked just now may be re-picked; given or remembered ones must not move.
        if [ "$fresh" -eq 0 ] || [ "$attempt" -ge 3 ]; then
            die "port $port or $cport is taken (see $dir/broker.log)"
        fi
        say "port $port or $cport was taken meanwhile; trying other ports"
        port=$(free_port)
        cport=$(free_port "$port")
        [ -z "$sslport" ] || sslport=$(free_port "$port" "$cport")
        [ -z "$saslport" ] || saslport=$(free_port "$port" "$cport" "$sslport")
        attempt=$((attempt + 1))
    done
    printf '127.0.0.1:%s\n' "$port" >"$dir/bootstrap"
    rm -f "$dir/bootstrap-ssl" "$dir/bootstrap-sasl"
    [ -z "$sslport" ] || printf '127.0.0.1:%s\n' "$sslport" >"$dir/bootstrap-ssl"
    [ -z "$saslport" ] || printf '127.0.0.1:%s\n' "$saslport" >"$dir/bootstrap-sasl"
    ensure_topic airudder.messages 3
    ensure_topic airudder.deadletter 1
    ensure_topic airudder.deliveries 3 # the replay's delivery log, by default
    say "Kafka $version ready at 127.0.0.1:$port (dir $dir)"
}

cmd_create_topic() {
    [ $# -eq 3 ] || usage
    set_dir "$1"
    if ! is_uint "$3" || [ "$3" -eq 0 ]; then die "bad partition count: $3"; fi
    if [ -f "$dir/cluster" ]; then
        root=$dir
        use_live_node
        replicas=3
    else
        broker_pid >/dev/null || die "no broker running in $dir"
        port=$(cat "$dir/port")
    fi
    [ -f "$dir/tools-log4j2.properties" ] || write_tools_log4j
    fetch
    ensure_topic "$2" "$3"
}

cmd_group_offsets() {
    [ $# -eq 2 ] || usage
    set_dir "$1"
    if [ -f "$dir/cluster" ]; then
        root=$dir
        use_live_node
    else
        broker_pid >/dev/null || die "no broker running in $dir"
        port=$(cat "$dir/port")
    fi
    [ -f "$dir/tools-log4j2.properties" ] || write_tools_log4j
    fetch
    out=$(kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
        --bootstrap-server "127.0.0.1:$port" --describe --offsets --group "$2" 2>&1) ||
        die "cannot describe group $2: $out"
    # Columns: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    printf '%s\n' "$out" | awk -v g="$2" '$1 == g && $3 ~ /^[0-9]+$/ { print $2, $3, $4 }' | sort
}

cmd_bootstrap() {
    [ $# -eq 1 ] || usage
    set_dir "$1"
    [ -f "$dir/bootstrap" ] || die "no broker was started in $dir"
    cat "$dir/bootstrap"
}

# ---- cluster mode ----

cluster_nodes="1 2 3"
cluster_size=3

# set_cluster DIR: $root is the cluster's directory (which must hold one).
set_cluster() {
    set_dir "$1"
    root=$dir
    [ -f "$root/cluster" ] || die "$root holds no cluster (cluster-start makes one)"
}

# node_env N: act on node N of $root: dir, node_id, port, cport, voters.
node_env() {
    case " $cluster_nodes " in *" $1 "*) ;; *) die "no node $1 (nodes: $cluster_nodes)" ;; esac
    cluster=1
    node_id=$1
    dir=$root/node$1
    port=$(cat "$dir/port")
    cport=$(cat "$dir/controller-port")
    voters=
    for voter in $cluster_nodes; do
        voters=$voters${voters:+,}$voter@127.0.0.1:$(cat "$root/node$voter/controller-port")
    done
}

# node_state: R, S, T (stopped: frozen), ... of node $dir's process; fails if not running.
node_state() {
    pid=$(broker_pid) || return 1
    sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$pid/stat"
}

# use_live_node: point port (and dir) at a node of $root that runs and is not frozen.
use_live_node() {
    for n in $cluster_nodes; do
        node_env "$n"
        state=$(node_state) || continue
        [ "$state" = T ] || return 0
    done
    die "no node of the cluster in $root is running (and not frozen)"
}

# cluster_metadata [TOPIC]: kcat -L from a live node (all topics without TOPIC).
cluster_metadata() {
    use_live_node
    "$KCAT" -b "127.0.0.1:$port" -L ${1:+-t "$1"} -m 5 2>&1
}

cmd_cluster_start() {
    [ $# -eq 1 ] || usage
    mkdir -p "$1"
    set_dir "$1"
    root=$dir
    [ -f "$root/cluster" ] || [ ! -f "$root/pid" ] || die "$root holds a single broker"
    : >"$root/cluster"
    need_java
    command -v "$KCAT" >/dev/null 2>&1 || die "no kcat ('$KCAT' not found); run scripts/install-deps.sh"
    fetch
    [ -s "$root/cluster-id" ] || cluster_id >"$root/cluster-id"
    # Ports: those of the previous start, else fresh ones, all six different.
    taken=
    for n in $cluster_nodes; do
        mkdir -p "$root/node$n"
        for f in port controller-port; do
            p=$(cat "$root/node$n/$f" 2>/dev/null || true)
            # shellcheck disable=SC2086 # one argument per port
            [ -n "$p" ] || p=$(free_port $taken)
            printf '%s\n' "$p" >"$root/node$n/$f"
            taken="$taken $p"
        done
    done
    started=
    for n in $cluster_nodes; do
        node_env "$n"
        ! broker_pid >/dev/null || continue
        for p in "$port" "$cport"; do
            ! port_in_use "$p" listen || die "port $p of node $n is in use"
        done
        write_config
        write_tools_log4j
        started="$started $n"
    done
    # Format the new nodes' storage, all at once (a JVM each).
    formats=
    for n in $started; do
        node_env "$n"
        [ ! -f "$dir/data/meta.properties" ] || continue
        say "formatting storage of node $n"
        kafka_tool kafka.tools.StorageTool format -t "$(cat "$root/cluster-id")" \
            -c "$dir/server.properties" >"$dir/format.log" 2>&1 &
        formats="$formats $!"
    done
    for pid in $formats; do
        wait "$pid" || {
            cat "$root"/node*/format.log >&2
            die "could not format the storage in $root"
        }
    done
    # Start them together: no node is up before a quorum of controllers is.
    for n in $started; do
        node_env "$n"
        launch_jvm
    done
    for n in $started; do
        node_env "$n"
        await_broker 120 || die "port $port or $cport of node $n is taken (see $dir/broker.log)"
    done
    bootstrap=
    for n in $cluster_nodes; do
        bootstrap=$bootstrap${bootstrap:+,}127.0.0.1:$(cat "$root/node$n/port")
    done
    printf '%s\n' "$bootstrap" >"$root/bootstrap"
    use_live_node
    replicas=3
    ensure_topic airudder.messages 3
    ensure_topic airudder.deadletter 1
    wait_isr 120
    say "Kafka $version cluster ready at $bootstrap (dir $root)"
}

cmd_cluster_stop() {
    [ $# -eq 1 ] || usage
    if [ ! -f "$1/cluster" ]; then
        say "no cluster in $1"
        return 0
    fi
    set_cluster "$1"
    # Together, and without waiting long: the last nodes cannot shut down in a controlled way
    # once the quorum is gone.
    stop_wait=10
    for n in $cluster_nodes; do
        node_env "$n"
        if pid=$(broker_pid); then kill -CONT "$pid" 2>/dev/null || true; fi
        stop_broker &
    done
    wait
}

cmd_node_kill() {
    [ $# -ge 2 ] || usage
    set_cluster "$1"
    shift
    pids=
    for n in "$@"; do
        node_env "$n"
        pid=$(broker_pid) || die "node $n is not running"
        pids="$pids $pid"
    done
    # shellcheck disable=SC2086 # one argument per pid: one kill, so all die at once
    kill -KILL $pids
    for n in "$@"; do
        node_env "$n"
        while broker_pid >/dev/null && [ "$(node_state)" != Z ]; do sleep 0.05; done
        printf '=== kafka.sh node-kill %s: SIGKILL\n' "$(date '+%Y-%m-%d %H:%M:%S')" >>"$dir/broker.log"
    done
    say "killed node(s) $* (SIGKILL)"
}

cmd_node_signal() { # SIGNAL DIR N
    [ $# -eq 3 ] || usage
    set_cluster "$2"
    node_env "$3"
    pid=$(broker_pid) || die "node $3 is not running"
    kill "-$1" "$pid"
    printf '=== kafka.sh %s: SIG%s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" >>"$dir/broker.log"
    say "node $3: SIG$1"
}

cmd_node_stop() {
    [ $# -eq 2 ] || usage
    set_cluster "$1"
    node_env "$2"
    stop_broker
}

# Nodes started together: two of three controllers can only come back at once.
cmd_node_start() {
    [ $# -ge 2 ] || usage
    set_cluster "$1"
    shift
    fetch
    started=
    for n in "$@"; do
        node_env "$n"
        if pid=$(broker_pid); then
            say "node $n already running (pid $pid)"
            continue
        fi
        ! port_in_use "$port" listen || die "port $port of node $n is in use"
        ! port_in_use "$cport" listen || die "port $cport of node $n is in use"
        write_config
        launch_jvm
        started="$started $n"
    done
    for n in $started; do
        node_env "$n"
        await_broker 120 || die "port $port or $cport of node $n is taken (see $dir/broker.log)"
    done
}

cmd_leader() {
    [ $# -eq 3 ] || usage
    set_cluster "$1"
    md=$(cluster_metadata "$2") || die "no metadata for topic $2: $md"
    leader=$(printf '%s\n' "$md" |
        sed -n "s/^ *partition $3, leader \([0-9-]*\),.*/\1/p")
    [ -n "$leader" ] || die "topic $2 has no partition $3"
    printf '%s\n' "$leader"
}

# Is every node up (listed in the metadata) and every partition led and fully in sync?
# Prints what is not, when not.
cluster_healthy() {
    # The metadata lists a killed or frozen node until the controller fences it: ask /proc.
    for n in $cluster_nodes; do
        node_env "$n"
        state=$(node_state) || {
            printf 'node %s is not running\n' "$n"
            return 1
        }
        if [ "$state" = T ]; then
            printf 'node %s is frozen\n' "$n"
            return 1
        fi
    done
    md=$(cluster_metadata) || {
        printf 'no metadata: %s\n' "$md"
        return 1
    }
    printf '%s\n' "$md" | awk -v want="$cluster_size" '
        /^ *[0-9]+ brokers:/ { brokers = $1 }
        /^ *topic "/ { topic = $2 }
        /^ *partition [0-9]+, leader/ {
            line = $0
            sub(/^ */, "", line)
            leader = $4; sub(/,/, "", leader)
            replicas = line; sub(/.*replicas: /, "", replicas); sub(/,? *isrs:.*/, "", replicas)
            isrs = line; sub(/.*isrs: /, "", isrs); sub(/[, ]*$/, "", isrs)
            nr = split(replicas, r, ","); ni = split(isrs, i, ",")
            if (leader == "-1" || nr != ni || index(line, "isrs:") == 0) {
                print topic " " line; bad = 1
            }
        }
        END {
            if (brokers != want) { print brokers + 0 " of " want " brokers up"; bad = 1 }
            exit bad }'
}

wait_isr() {
    start_s=$(date +%s)
    until why=$(cluster_healthy); do
        if [ $(($(date +%s) - start_s)) -ge "$1" ]; then
            printf '%s\n' "$why" >&2
            die "the cluster in $root is not fully in sync after $1 s"
        fi
        sleep 0.2
    done
    say "every partition fully in sync ($(($(date +%s) - start_s)) s)"
}

cmd_wait_isr() {
    if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
    set_cluster "$1"
    if [ -n "${2:-}" ] && ! is_uint "$2"; then die "bad timeout: $2"; fi
    wait_isr "${2:-120}"
}

[ $# -ge 1 ] || usage
command=$1
shift
case $command in
fetch)
    [ $# -eq 0 ] || usage
    fetch
    ;;
start) cmd_start "$@" ;;
stop)
    [ $# -eq 1 ] || usage
    if [ -f "$1/cluster" ]; then
        cmd_cluster_stop "$1"
    elif [ -d "$1" ]; then
        set_dir "$1"
        stop_broker
    else
        say "no broker in $1"
    fi
    ;;
cluster-start) cmd_cluster_start "$@" ;;
cluster-stop) cmd_cluster_stop "$@" ;;
node-kill) cmd_node_kill "$@" ;;
node-freeze) cmd_node_signal STOP "$@" ;;
node-thaw) cmd_node_signal CONT "$@" ;;
node-stop) cmd_node_stop "$@" ;;
node-start) cmd_node_start "$@" ;;
node-restart)
    [ $# -eq 2 ] || usage
    cmd_node_stop "$@"
    cmd_node_start "$@"
    ;;
leader) cmd_leader "$@" ;;
wait-isr) cmd_wait_isr "$@" ;;
create-topic) cmd_create_topic "$@" ;;
bootstrap) cmd_bootstrap "$@" ;;
group-offsets) cmd_group_offsets "$@" ;;
*) usage ;;
esac
