#!/usr/bin/env bash
# Builds the benchmarks and runs the policy-engine ones with short settings sized for a 2-core
# machine (one fork each; iterations as annotated on each class). Results, as JMH text and JSON, go
# to bench/target/results/. See bench/README.md for what each one measures.
#
#   bench/run-policy-bench.sh            everything (about 7 minutes)
#   bench/run-policy-bench.sh decision   one part: decision | global | compile | heap | swap | gc
#   JMH_ARGS="-p policies=10000" bench/run-policy-bench.sh decision   extra JMH options
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
# Forked benchmark JVMs inherit these from the JMH launcher.
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
JAR=bench/target/ambit-bench.jar
OUT=bench/target/results
read -r -a EXTRA <<< "${JMH_ARGS:-}"

./mvnw -B -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
mkdir -p "$OUT"

jmh() { # name, then JMH arguments
    local name=$1
    shift
    echo "== $name: $* ${EXTRA[*]}"
    "$JAVA" "${FLAGS[@]}" -jar "$JAR" "$@" "${EXTRA[@]}" -rf json -rff "$OUT/$name.json" | tee "$OUT/$name.txt"
}

part() {
    case "$1" in
    # L4/L7 decision time, 10 / 1,000 / 10,000 policies; SampleTime (p50) and AverageTime.
    decision) jmh decision 'io.ambit.bench.policy.DecisionBench' ;;
    # ztunnel's shape: 10,000 mesh-wide DENY policies x 10 rules, all walked. A reference, not a target.
    global) jmh global 'io.ambit.bench.policy.GlobalDenyBench' ;;
    # Load (parse + validate) and compile 10,000 policies, single shots; bytes allocated per shot.
    compile) jmh compile 'io.ambit.bench.policy.CompileBench' -prof gc ;;
    # Retained heap of a 10,000-policy snapshot: serial GC, heap in use after full collections.
    heap)
        echo "== heap"
        "$JAVA" "${FLAGS[@]}" -XX:+UseSerialGC -Xms2g -Xmx2g -cp "$JAR" io.ambit.bench.policy.SnapshotHeap 10000 \
            | tee "$OUT/heap.txt"
        ;;
    # Decisions per second with snapshots swapped underneath, against none.
    swap) jmh swap 'io.ambit.bench.policy.SwapBench' ;;
    # Allocation per decision at 10,000 policies (JMH's gc profiler).
    gc) jmh decision-gc 'io.ambit.bench.policy.DecisionBench' -p policies=10000 -bm avgt -prof gc ;;
    *)
        echo "unknown part: $1 (expected one of: decision global compile heap swap gc)" >&2
        exit 2
        ;;
    esac
}

if [[ $# -eq 0 ]]; then
    set -- decision global compile heap swap gc
fi
for p in "$@"; do
    part "$p"
done
