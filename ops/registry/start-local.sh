#!/usr/bin/env bash
# Starts a real Schema Registry on this machine: Apicurio Registry 2.6 (Confluent-compatible API under
# /apis/ccompat/v7), unpacked by the build from Maven Central (no download at run time, no Docker), and
# keeps it running until Ctrl-C / SIGTERM. Prints "schema.registry.url=URL" on stdout once it answers;
# logs go to stderr (the registry's own log file is named there).
#
# usage: ops/registry/start-local.sh [--port 8081] [--data DIR] [--rebuild]
#   --port P     HTTP port on 127.0.0.1 (default 8081); 0 = a free port
#   --data DIR   keep the registry's database (H2 file) in DIR between runs (default: a temporary folder
#                deleted on stop)
#   --rebuild    rebuild the broker module (broker/target, with Apicurio unpacked) first even if it looks current
# Then: callvec run --set callvec.serde=confluent --set schema.registry.url=URL
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="$root/broker/target/callvec-broker-0.1.0-SNAPSHOT.jar"
lib="$root/broker/target/lib"
apicurio="$root/broker/target/apicurio"

args=()
rebuild=0
while (($#)); do
  case "$1" in
    --rebuild) rebuild=1; shift ;;
    --port|--data)
      [[ $# -ge 2 ]] || { echo "start-local.sh: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-local.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

stale=0
if [[ ! -f "$jar" || ! -d "$lib" || ! -d "$apicurio/lib" ]]; then
  stale=1
elif [[ -n "$(find "$root/broker/src/main" "$root/pom.xml" "$root/broker/pom.xml" -newer "$jar" -type f \
              -not -path '*/target/*' -print -quit 2>/dev/null)" ]]; then
  stale=1
fi
if ((rebuild || stale)); then
  echo "start-local.sh: building broker/target and unpacking Apicurio (mvn -q -DskipTests -pl broker -am package)" >&2
  (cd "$root" && mvn -B -q -DskipTests -pl broker -am package) >&2
fi

exec java -Xmx64m -D"callvec.apicurio.home=$apicurio" -Dlogback.configurationFile="$root/ops/broker/logback.xml" -cp "$jar:$lib/*" io.callvec.broker.LocalSchemaRegistryMain "${args[@]}"
