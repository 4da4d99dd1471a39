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
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="$root/broker/target/callvec-broker-0.1.0-SNAPSHOT.jar"
lib="$root/broker/target/lib"

args=()
rebuild=0
while (($#)); do
  case "$1" in
    --rebuild) rebuild=1; shift ;;
    --nodes|--port|--data|--mode|--topic)
      [[ $# -ge 2 ]] || { echo "start-local.sh: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-local.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# Build the broker jar + lib/ when missing or older than the broker sources or the poms.
stale=0
if [[ ! -f "$jar" || ! -d "$lib" ]]; then
  stale=1
elif [[ -n "$(find "$root/broker/src/main" "$root/pom.xml" "$root/broker/pom.xml" -newer "$jar" -type f \
              -not -path '*/target/*' -print -quit 2>/dev/null)" ]]; then
  stale=1
fi
if ((rebuild || stale)); then
  echo "start-local.sh: building broker/target (mvn -q -DskipTests -pl broker -am package)" >&2
  (cd "$root" && mvn -B -q -DskipTests -pl broker -am package) >&2
fi

# shellcheck disable=SC2086
exec java ${LOCAL_KAFKA_JAVA_OPTS:--Xmx1g} -Dlogback.configurationFile="$root/ops/broker/logback.xml" -cp "$jar:$lib/*" io.callvec.broker.LocalKafkaMain "${args[@]}"
