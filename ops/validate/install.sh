#!/usr/bin/env bash
# Installs the offline validators that the ops tests (topology/src/test/java/io/callvec/ops) run:
#   - promtool, Prometheus' rule checker, taken from Debian's `prometheus` package (only the binary is
#     extracted to /usr/local/bin: no Prometheus server is installed or started);
#   - the npm packages of ops/validate (schemas of Kubernetes, KEDA and the Prometheus Operator, and
#     TypeScript), from package-lock.json with `npm ci`;
#   - Node.js and npm from Debian when missing.
# Idempotent; needs root for apt-get and /usr/local/bin. Network: Debian's and npm's registries only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update_once() {
  if ((apt_updated == 0)); then
    apt-get update -qq
    apt_updated=1
  fi
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_update_once
  apt-get install -y -qq --no-install-recommends nodejs npm
fi

if ! command -v promtool >/dev/null 2>&1; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); then
    apt_update_once
    (cd "$tmp" && apt-get download prometheus >/dev/null)
  fi
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
  install -m 0755 "$tmp/x/usr/bin/promtool" /usr/local/bin/promtool
fi
promtool --version 2>&1 | sed -n 1p

# npm ci when node_modules is missing or older than the lock file.
if [[ ! -d "$here/node_modules" || "$here/package-lock.json" -nt "$here/node_modules" ]]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
  touch "$here/node_modules"
fi
echo "node $(node --version), ops/validate: $(ls "$here/node_modules" | wc -l) packages"
