#!/usr/bin/env bash
# Builds the benchmarks and runs the xDS client benchmark (io.ambit.bench.xds.XdsBench): a real gRPC
# server over TLS on 127.91.250.1 serving W workloads and P Authorizations as istiod would; it prints
# connect->ready time and heap held, push->visible p50/p90/p99 for workload and policy updates, and CPU
# per 1,000 updates. Output goes to bench/target/results/xds.txt. See bench/README.md.
#
#   bench/run-xds-bench.sh                  10,000 workloads, 1,000 policies, 1,000 updates
#   bench/run-xds-bench.sh 20000 2000 500   other sizes
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
JAR=bench/target/ambit-bench.jar
OUT=bench/target/results

./mvnw -B -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
mkdir -p "$OUT"
# Serial collector: its full collections compact everything, so "heap in use after GC" is the live data.
"$JAVA" "${FLAGS[@]}" -XX:+UseSerialGC -Xms2g -Xmx2g -cp "$JAR" io.ambit.bench.xds.XdsBench \
    "${1:-10000}" "${2:-1000}" "${3:-1000}" | tee "$OUT/xds.txt"
