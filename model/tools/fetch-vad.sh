#!/usr/bin/env bash
# Install step for Silero VAD v5 (MIT, github.com/snakers4/silero-vad): takes the ONNX file from the
# npm package @ricky0123/vad-web at a pinned version (npm pack: a package registry, the project's
# install step), checks its SHA-256 and puts it where the model module's build packages it:
#   model/vad-model/io/callvec/model/vad/silero_vad_v5.onnx   (git-ignored; a Maven resource folder)
# so that io.callvec.model.vad.SileroVad loads it from the class path. Nothing downloads at run or
# test time. Idempotent: an existing file with the right hash is kept. Called by .ci/run.
#   model/tools/fetch-vad.sh [--check]     (--check: verify only, exit 1 when missing or wrong)
set -euo pipefail
cd "$(dirname "$0")/../.."

PACKAGE="@ricky0123/vad-web"
VERSION="0.0.31"
MEMBER="package/dist/silero_vad_v5.onnx"
SHA256="2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f"
BYTES=2327524
DEST_DIR="model/vad-model/io/callvec/model/vad"
DEST="$DEST_DIR/silero_vad_v5.onnx"

sha() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$DEST" && "$(sha "$DEST")" == "$SHA256" ]]; then
  echo "fetch-vad: $DEST present, SHA-256 verified"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "fetch-vad: $DEST missing or its SHA-256 is not $SHA256; run model/tools/fetch-vad.sh" >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-vad: npm not found. Silero VAD v5 is installed from the npm package" \
       "$PACKAGE@$VERSION; install Node.js and npm (Debian: apt-get install npm) and rerun" \
       "model/tools/fetch-vad.sh" >&2
  exit 3
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$PACKAGE@$VERSION" --silent >/dev/null)
tgz="$(ls "$tmp"/*.tgz 2>/dev/null | sed -n 1p)"
if [[ -z "$tgz" ]]; then
  echo "fetch-vad: npm pack $PACKAGE@$VERSION produced no tarball" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp" "$MEMBER"
got="$(sha "$tmp/$MEMBER")"
if [[ "$got" != "$SHA256" ]]; then
  echo "fetch-vad: $MEMBER from $PACKAGE@$VERSION has SHA-256 $got, expected $SHA256" \
       "($(stat -c %s "$tmp/$MEMBER") bytes, expected $BYTES); refusing to install it" >&2
  exit 1
fi
mkdir -p "$DEST_DIR"
cp "$tmp/$MEMBER" "$DEST.tmp"
mv "$DEST.tmp" "$DEST"
echo "fetch-vad: installed $DEST ($BYTES bytes, SHA-256 verified) from $PACKAGE@$VERSION"
