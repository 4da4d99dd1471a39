#!/usr/bin/env bash
# Checks that a lib/ folder holds exactly the ONNX Runtime flavour an image is built for, so that a
# CPU image never ships the GPU jar (445 MB) and a CUDA image never runs on the CPU by mistake
# (after `mvn package` and `mvn -Pgpu package` without `clean`, lib/ holds both).
#
# usage: check-libs.sh cpu|cuda LIB_DIR      exit 0 ok, 1 wrong content, 2 bad usage
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: check-libs.sh cpu|cuda LIB_DIR" >&2
  exit 2
fi
flavour="$1"
lib="$2"
[[ -d "$lib" ]] || { echo "check-libs: $lib is not a folder" >&2; exit 1; }
shopt -s nullglob
cpu=("$lib"/onnxruntime-[0-9]*.jar)
gpu=("$lib"/onnxruntime_gpu-[0-9]*.jar)
case "$flavour" in
  cpu)  want=${#cpu[@]}; other=${#gpu[@]}; build="mvn -B -DskipTests -pl cli -am clean package" ;;
  cuda) want=${#gpu[@]}; other=${#cpu[@]}; build="mvn -B -Pgpu -DskipTests -pl cli -am clean package" ;;
  *) echo "check-libs: flavour must be cpu or cuda, got '$flavour'" >&2; exit 2 ;;
esac
if [[ $want -ne 1 || $other -ne 0 ]]; then
  echo "check-libs: $lib holds ${#cpu[@]} CPU and ${#gpu[@]} GPU ONNX Runtime jars; a $flavour image needs exactly one $flavour jar and no other." >&2
  echo "check-libs: rebuild with: $build" >&2
  exit 1
fi
echo "check-libs: $flavour ONNX Runtime: $(basename "${cpu[0]:-${gpu[0]}}")"
