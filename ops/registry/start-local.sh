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
# shellcheck source=../broker/local-jar.sh
source "$(dirname "${BASH_SOURCE[0]}")/../broker/local-jar.sh"
apicurio="$root/broker/target/apicurio"
parse_options "--port --data" "$@"
build_broker_if_stale "broker/target and unpacking Apicurio" "$apicurio/lib"

exec java -Xmx64m -D"callvec.apicurio.home=$apicurio" -Dlogback.configurationFile="$root/ops/broker/logback.xml" -cp "$jar:$lib/*" io.callvec.broker.LocalSchemaRegistryMain "${args[@]}"
