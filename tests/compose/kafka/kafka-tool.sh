#!/bin/sh
# The command-line tools of the test Kafka image (tests/compose/kafka/Dockerfile), under the
# names the official image's /opt/kafka/bin has: one script, the name it is called by
# chooses the tool. A short-lived JVM tuned to start fast, logging errors only.
set -eu

case $(basename -- "$0") in
kafka-topics.sh) class=org.apache.kafka.tools.TopicCommand ;;
kafka-broker-api-versions.sh) class=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
kafka-console-consumer.sh) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
kafka-consumer-groups.sh) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
kafka-storage.sh) class=kafka.tools.StorageTool ;;
*) echo "kafka-tool: called as $(basename -- "$0"), which is no tool of this image" >&2; exit 2 ;;
esac
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile=/etc/kafka/docker/tools-log4j2.yaml -cp '/opt/kafka/libs/*' \
    "$class" "$@"
