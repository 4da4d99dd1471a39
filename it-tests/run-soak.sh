#!/usr/bin/env bash
# Long reliability runs on real brokers (the CI versions of these tests are small).
#
#   it-tests/run-soak.sh crash   [-Dcallvec.soak.KEY=VALUE ...]   instances killed (kill -9) and restarted mid-stream
#   it-tests/run-soak.sh scale   [...]                            1 -> 3 instances, then SIGTERM scale-in, mid-stream
#   it-tests/run-soak.sh broker  [...]                            the only broker killed (kill -9) and restarted mid-stream,
#                                                                 and one of 3 brokers killed for good (the app finishes on 2)
#   it-tests/run-soak.sh failover [...]                           shipped defaults, 3 instances: kill -9 + restart, then SIGTERM + start,
#                                                                 mid-call; prints the survivors' and the moved streams' output pause
#   it-tests/run-soak.sh hostile [...]                            29 kinds of bad input while good calls play; a million
#                                                                 one-chunk calls evicted by the idle timeout
#   it-tests/run-soak.sh model   [...]                            transient and permanent model failures
#   it-tests/run-soak.sh memory  [...]                            30 min rolling real-time load on one instance: RSS/heap/threads/fds table and slopes
#   it-tests/run-soak.sh open    [...]                            10,000 calls open at once: heap, RSS, state size per stream, idle eviction
#   it-tests/run-soak.sh overload [...]                           one instance, a slow model, >= 3x its capacity for 5 min, then the catch-up:
#                                                                 no fencing/rebalance, exactly once, deferred windows, catch-up time
#   it-tests/run-soak.sh all     [...]
#
# Full-size defaults (override any with -Dcallvec.soak.KEY=VALUE):
#   crash:  calls=20 instances=3 trials=3 killAt=0.2,0.45,0.7 downMs=1500 speed=1.0 callMs=12000
#   scale:  calls=20 trials=2 speed=1.0 callMs=12000
#   broker: calls=10 speed=1.0 callMs=12000 brokerDownMs=3000 clusterCalls=10 clusterCallMs=12000 clusterKillAt=0.4
#   failover: calls=20 callMs=60000 downMs=1500 killAt=0.2 termAt=0.75
#   hostile: hostileCalls=6 tinyCalls=1000000 tinyIdleMs=10000
#   memory: minutes=30 calls=20 sampleS=30 heapMb=256 maxRssSlopeMibPerHour=64 maxHeapSlopeMibPerHour=16
#   open:   openCalls=10000 openAudioMs=1000 chunkMs=100 heapMb=256 idleMs=60000 model=fixture delayMsPerWindow=0
#           (CI: openCalls=300 openAudioMs=4600 model=standin (dimension 1024) delayMsPerWindow=20: windows cut and pending)
#   overload: overloadCalls=13 overloadMs=300000 delayMsPerWindow=250 (26 real-time streams, capacity <= 8 audio-s/s; ~20 min in all)
# Prints the RESULT lines (records checked, lost, duplicated) of every trial and the PAUSE lines of failover; exit status is Maven's.
# Work folders (state directories, every app instance's log) stay under it-tests/target/reliability/.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-crash}"
shift || true
case "$what" in
  crash)  tests='io.callvec.it.reliability.InstanceCrashTest'
          defaults=(-Dcallvec.soak.calls=20 -Dcallvec.soak.instances=3 -Dcallvec.soak.trials=3 -Dcallvec.soak.killAt=0.2,0.45,0.7
                    -Dcallvec.soak.downMs=1500 -Dcallvec.soak.speed=1.0 -Dcallvec.soak.callMs=12000) ;;
  scale)  tests='io.callvec.it.reliability.ScaleOutInTest'
          defaults=(-Dcallvec.soak.calls=20 -Dcallvec.soak.trials=2 -Dcallvec.soak.speed=1.0 -Dcallvec.soak.callMs=12000) ;;
  broker) tests='io.callvec.it.reliability.BrokerCrashTest'
          defaults=(-Dcallvec.soak.calls=10 -Dcallvec.soak.speed=1.0 -Dcallvec.soak.callMs=12000 -Dcallvec.soak.brokerDownMs=3000
                    -Dcallvec.soak.clusterCalls=10 -Dcallvec.soak.clusterCallMs=12000 -Dcallvec.soak.clusterKillAt=0.4) ;;
  failover) tests='io.callvec.it.reliability.FailoverDefaultsTest'
          defaults=(-Dcallvec.soak.calls=20 -Dcallvec.soak.callMs=60000 -Dcallvec.soak.downMs=1500 -Dcallvec.soak.killAt=0.2 -Dcallvec.soak.termAt=0.75) ;;
  hostile) tests='io.callvec.it.reliability.HostileInputTest'
          defaults=(-Dcallvec.soak.hostileCalls=6 -Dcallvec.soak.tinyCalls=1000000 -Dcallvec.soak.tinyIdleMs=10000) ;;
  model)  tests='io.callvec.it.reliability.ModelFailureTest'
          defaults=() ;;
  memory) tests='io.callvec.it.reliability.MemorySoak'
          defaults=(-Dcallvec.soak.minutes=30 -Dcallvec.soak.calls=20) ;;
  open)   tests='io.callvec.it.reliability.BoundedResourcesTest'
          defaults=(-Dcallvec.soak.openCalls=10000 -Dcallvec.soak.openAudioMs=1000 -Dcallvec.soak.chunkMs=100 -Dcallvec.soak.idleMs=60000
                    -Dcallvec.soak.model=fixture -Dcallvec.soak.delayMsPerWindow=0) ;;
  overload) tests='io.callvec.it.reliability.OverloadTest'
          defaults=(-Dcallvec.soak.overloadCalls=13 -Dcallvec.soak.overloadMs=300000 -Dcallvec.soak.delayMsPerWindow=250) ;;
  all)    tests='io.callvec.it.reliability.**,!io.callvec.it.reliability.MemorySoak'
          defaults=(-Dcallvec.soak.calls=20 -Dcallvec.soak.instances=3 -Dcallvec.soak.trials=2 -Dcallvec.soak.killAt=0.2,0.45,0.7
                    -Dcallvec.soak.speed=1.0 -Dcallvec.soak.callMs=12000) ;;
  -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
  *) echo "unknown scenario '$what': expected crash, scale, broker, failover, hostile, model, memory, open, overload or all" >&2; exit 2 ;;
esac

status=0
rm -f it-tests/target/surefire-reports/*reliability*-output.txt
mvn -B -q -pl it-tests -am test -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false "${defaults[@]}" "$@" || status=$?
echo
echo "RESULT and PAUSE lines (it-tests/target/surefire-reports/*-output.txt):"
grep -hE 'RESULT scenario=|PAUSE fault=' it-tests/target/surefire-reports/*reliability*-output.txt 2>/dev/null | sed -E 's/^.* - (RESULT|PAUSE)/\1/' || echo "(none)"
exit $status
