#!/usr/bin/env bash
# Starts a real KRaft Kafka cluster on this machine from the Kafka jars Maven already has (no download,
# no Docker) and keeps it running until Ctrl-C / SIGTERM. Prints "bootstrap.servers=HOST:PORT[,...]"
# on stdout once ready; logs go to stderr.
#
# usage: ops/broker/start-local.sh [--nodes 1|3] [--port 9092] [--data DIR] [--mode IN_PROCESS|CHILD_PROCESS]
#                                  [--topic NAME[:PARTITIONS]]... [--rebuild]
#   --nodes N    brokers (default 1); node i listens on PORT + i
#   --port P     PLAINTEXT port of node 0 (default 9092); 0 = free ports
#   --data DIR   keep the data in DIR between runs (default: a temporary folder deleted on stop)
#   --mode M     IN_PROCESS (default): combined broker+controller nodes in one JVM;
#                CHILD_PROCESS: one JVM per broker plus a controller JVM
#   --topic T    create topic T on start (repeatable), e.g. --topic callvec.audio:8
#   --rebuild    rebuild the broker module (broker/target) first even if it looks current
# Environment: LOCAL_KAFKA_JAVA_OPTS (default -Xmx1g).
set -euo pipefail
# shellcheck source=local-jar.sh
source "$(dirname "${BASH_SOURCE[0]}")/local-jar.sh"
parse_options "--nodes --port --data --mode --topic" "$@"
build_broker_if_stale "broker/target"

# shellcheck disable=SC2086
exec java ${LOCAL_KAFKA_JAVA_OPTS:--Xmx1g} -Dlogback.configurationFile="$root/ops/broker/logback.xml" -cp "$jar:$lib/*" io.callvec.broker.LocalKafkaMain "${args[@]}"
