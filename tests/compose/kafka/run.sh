#!/bin/sh
# The test Kafka image's command (tests/compose/kafka/Dockerfile), doing what the official
# apache/kafka image's /etc/kafka/docker/run does for a KRaft node configured by environment:
# derive listeners from advertised listeners when only those are given, let the broker's own
# KafkaDockerWrapper turn KAFKA_* and CLUSTER_ID into /opt/kafka/config/server.properties and
# format the log directory ("already formatted" on a kept volume is fine), then run the broker
# in the foreground (it handles SIGTERM: a controlled shutdown).
set -eu

[ -n "${CLUSTER_ID:-}" ] || { echo "CLUSTER_ID environment variable not set" >&2; exit 1; }
if [ -z "${KAFKA_LISTENERS:-}" ] && [ -n "${KAFKA_ADVERTISED_LISTENERS:-}" ] &&
    [ "${KAFKA_PROCESS_ROLES:-}" != controller ]; then
    KAFKA_LISTENERS=$(printf '%s\n' "$KAFKA_ADVERTISED_LISTENERS" | sed -e 's|://[^:]*:|://0.0.0.0:|g')
    export KAFKA_LISTENERS
fi

java="java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true"
if ! result=$($java -Dlog4j2.configurationFile=/etc/kafka/docker/tools-log4j2.yaml \
    -cp '/opt/kafka/libs/*' kafka.docker.KafkaDockerWrapper setup \
    --default-configs-dir /etc/kafka/docker --mounted-configs-dir /mnt/shared/config \
    --final-configs-dir /opt/kafka/config 2>&1); then
    printf '%s\n' "$result"
    printf '%s\n' "$result" | grep -qi 'already formatted' || exit 1
else
    printf '%s\n' "$result"
fi

# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM options, as in kafka-run-class.sh
exec java ${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m} -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.yaml -cp '/opt/kafka/libs/*' \
    kafka.Kafka /opt/kafka/config/server.properties
