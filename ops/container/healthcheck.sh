#!/usr/bin/env bash
# Container health probe for callvec's HTTP endpoint, without curl or wget (JRE images have neither):
# bash's /dev/tcp sends one HTTP/1.0 GET to 127.0.0.1 and succeeds only on a 200 status line.
#
# usage: healthcheck.sh [PATH]       PATH defaults to /health/live (/health/ready for readiness)
# env:   CALLVEC_HTTP_PORT           port of the endpoint (default 8080), as callvec.http.port
#        HEALTHCHECK_TIMEOUT_S       seconds to wait for the answer (default 3)
# exit:  0 healthy, 1 unhealthy or unreachable (Docker's HEALTHCHECK contract)
set -uo pipefail
path="${1:-/health/live}"
port="${CALLVEC_HTTP_PORT:-8080}"
timeout_s="${HEALTHCHECK_TIMEOUT_S:-3}"
[[ "$port" =~ ^[0-9]+$ && "$port" -gt 0 ]] || { echo "healthcheck: bad CALLVEC_HTTP_PORT '$port'" >&2; exit 1; }
[[ "$path" == /* ]] || { echo "healthcheck: path must start with /, got '$path'" >&2; exit 1; }

if ! { exec 3<>"/dev/tcp/127.0.0.1/${port}"; } 2>/dev/null; then
  echo "healthcheck: nothing listens on 127.0.0.1:${port}" >&2
  exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
status_line=""
if ! IFS= read -r -t "$timeout_s" status_line <&3; then
  echo "healthcheck: no answer from 127.0.0.1:${port}${path} within ${timeout_s} s" >&2
  exit 1
fi
exec 3<&- 3>&-
status_line="${status_line%$'\r'}"
if [[ "$status_line" =~ ^HTTP/[0-9.]+\ 200(\ |$) ]]; then
  exit 0
fi
echo "healthcheck: ${path}: ${status_line}" >&2
exit 1
