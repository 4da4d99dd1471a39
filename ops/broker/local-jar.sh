# Sourced (not run) by ops/broker/start-local.sh and ops/registry/start-local.sh: what both share,
# the broker module's jar and lib/ (built by Maven when missing or stale) and the option parsing.
# Sets root, jar and lib; defines parse_options and build_broker_if_stale.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="$root/broker/target/callvec-broker-0.1.0-SNAPSHOT.jar"
lib="$root/broker/target/lib"

# parse_options "OPTION..." "$@": each named OPTION takes a value and is passed on, in the array args;
# --rebuild sets rebuild=1; -h/--help prints the running script's header comment and exits 0; any
# other word, or a named option without its value, exits 2 with a message on stderr.
parse_options() {
  local valued=" $1 "
  shift
  args=()
  rebuild=0
  while (($#)); do
    case "$1" in
      --rebuild) rebuild=1; shift ;;
      -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *)
        if [[ "$valued" == *" $1 "* ]]; then
          [[ $# -ge 2 ]] || { echo "start-local.sh: $1 needs a value" >&2; exit 2; }
          args+=("$1" "$2"); shift 2
        else
          echo "start-local.sh: unknown option $1 (see --help)" >&2; exit 2
        fi ;;
    esac
  done
}

# build_broker_if_stale WHAT [DIR]: builds the broker module (mvn -q -DskipTests -pl broker -am package)
# when --rebuild was given, or when the jar, lib/ or DIR is missing or the jar is older than the broker
# sources or the poms; WHAT says on stderr what the build makes.
build_broker_if_stale() {
  local what="$1" required="${2:-}" stale=0
  if [[ ! -f "$jar" || ! -d "$lib" || ( -n "$required" && ! -d "$required" ) ]]; then
    stale=1
  elif [[ -n "$(find "$root/broker/src/main" "$root/pom.xml" "$root/broker/pom.xml" -newer "$jar" -type f \
                -not -path '*/target/*' -print -quit 2>/dev/null)" ]]; then
    stale=1
  fi
  if ((rebuild || stale)); then
    echo "start-local.sh: building $what (mvn -q -DskipTests -pl broker -am package)" >&2
    (cd "$root" && mvn -B -q -DskipTests -pl broker -am package) >&2
  fi
}
