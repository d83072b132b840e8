#!/usr/bin/env bash
# Waypoint benchmark: the same HTTP traffic, in one run, (1) directly to the app, (2) through the Ambit
# waypoint with an AuthorizationPolicy (client -> HBONE -> waypoint -> HBONE -> node -> app), and (3) through
# HAProxy (Debian) with a comparable ACL (client -> HAProxy -> app); HTTP/1.1 and HTTP/2 (prior knowledge).
# See bench/README.md, section "Waypoint", for what each number means.
#
#   bench/run-waypoint-bench.sh                     about 3 minutes
#   DURATION=20 RATE=2000 bench/run-waypoint-bench.sh
#
# Processes (each its own JVM, so CPU and memory are the waypoint's alone), all on 127.92.200.0/24:
#   targets   io.ambit.bench.waypoint.WaypointBench targets: the app (64-byte answers, h1 + h2c) on .21:8080
#             and the destination node's HBONE server on .21:15008 (a ztunnel's inbound, in miniature)
#   waypoint  WaypointBench waypoint: the waypoint the generated mesh declares, on .1:15008 (metrics .1:15020)
#   client    WaypointBench client: the source ztunnel in miniature, a TCP port on .10:18000 tunnelled over
#             pooled HBONE to the waypoint with :authority = the service VIP 127.92.201.1:80
#   haproxy   haproxy -f (generated): HTTP/1.1 and HTTP/2 prior knowledge on .30:8081, ACL like the policy, to the app
#   client2   WaypointBench client again (.11:18001), tunnelling to the app's node, which dials HAProxy: setup
#             "haproxy-hbone" puts HAProxy behind the same two HBONE hops (client JVM, node JVM) as the waypoint
#             path, so the harness costs the same on both sides of that comparison
# Load: h2load (nghttp2-client). Throughput: closed loop, CONNS connections (h2: STREAMS streams each) for
# DURATION s after a WARMUP s warm-up. Latency: open loop at RATE req/s in total (h2load --rps over CLIENTS
# clients) for DURATION s, percentiles from h2load's per-request log. CPU: user+system ticks of the
# waypoint JVM (/proc/PID/stat) around each run, per request, net of its idle rate. Memory: VmRSS after a full GC.
# Everything is on loopback; every wait is bounded; on exit only the processes started here are stopped, by PID.
#
# Before any measurement the waypoint JVM gets JIT_WARMUP s of traffic (half HTTP/1.1, half HTTP/2): a cold
# JVM would otherwise measure its compiler. Harness CPU: the client and targets JVMs (the two ztunnel hops a
# waypoint path adds) are measured too and reported separately, so a reader sees where the machine's CPU went.
#
# Settings (environment): DURATION=10 WARMUP=5 JIT_WARMUP=20 CONNS=16 STREAMS=10 RATE=1000 CLIENTS=4 ROUNDS=1
#   WP_JAVA_OPTS="-Xmx256m ..." (waypoint JVM) SKIP_BUILD=1
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
JAR=bench/target/ambit-bench.jar
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
JIT_WARMUP="${JIT_WARMUP:-20}"
CONNS="${CONNS:-16}"
STREAMS="${STREAMS:-10}"
RATE="${RATE:-1000}"
CLIENTS="${CLIENTS:-4}"
ROUNDS="${ROUNDS:-1}"
CLK_TCK="$(getconf CLK_TCK)"
JVM_FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)

NET=127.92.200
APP="$NET.21:8080"
NODE="$NET.21:15008"
WAYPOINT="$NET.1:15008"
METRICS="$NET.1:15020"
CLIENT="$NET.10:18000"
HAPROXY="$NET.30:8081"
CLIENT2="$NET.11:18001"
VIP="127.92.201.1:80"

for tool in h2load haproxy; do
    command -v "$tool" > /dev/null || { echo "$tool is not installed (apt-get install nghttp2-client haproxy)" >&2; exit 2; }
done
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    ./mvnw -B -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
fi
[[ -f "$JAR" ]] || { echo "no $JAR (build failed?)" >&2; exit 1; }

OUT="bench/target/results/waypoint-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
echo "results and logs: $OUT"

# --- processes we start: stopped on exit, by PID only ----------------------------------------------------
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${PIDS[@]}"; do stop_wait "$pid"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stop_wait() { # pid: waits (at most 10 s) for a process we started to exit, then kills it hard
    local pid=$1 i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2> /dev/null || { wait "$pid" 2> /dev/null || true; return 0; }
        sleep 0.1
    done
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
}
start() { # var log command...: a background process, its PID in the named variable
    local var=$1 log=$2
    shift 2
    "$@" > "$log" 2>&1 &
    PIDS+=($!)
    printf -v "$var" %d $!
}
wait_line() { # log pattern pid: until the log has a matching line (60 s at most)
    local i
    for ((i = 0; i < 600; i++)); do
        grep -q -- "$2" "$1" 2> /dev/null && return 0
        kill -0 "$3" 2> /dev/null || { echo "process $3 died; its log:" >&2; cat "$1" >&2; return 1; }
        sleep 0.1
    done
    echo "no '$2' in $1 after 60 s" >&2
    return 1
}
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kb() {
    "$JAVA_HOME/bin/jcmd" "$1" GC.run > /dev/null 2>&1 || true
    sleep 1
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

RESULTS="$OUT/results.tsv" # setup proto metric round value
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; }
median() { # setup proto metric
    awk -F'\t' -v s="$1" -v p="$2" -v m="$3" '$1 == s && $2 == p && $3 == m { print $5 }' "$RESULTS" 2> /dev/null \
        | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# --- the mesh, the policy, and HAProxy's equivalent --------------------------------------------------------
cat > "$OUT/mesh.yaml" <<YAML
mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
workloads:
- {name: bench-client, namespace: bench, serviceAccount: bench-client, workloadIps: ["$NET.10"]}
- name: bench-waypoint
  namespace: bench
  serviceAccount: bench-waypoint
  workloadIps: ["$NET.1"]
  labels: {gateway.networking.k8s.io/gateway-name: bench-waypoint}
- {name: app-1, namespace: bench, serviceAccount: app, workloadIps: ["$NET.21"], services: {"bench/app.bench.svc.cluster.local": {80: 8080}}}
services:
- {name: app, namespace: bench, hostname: app.bench.svc.cluster.local, vips: ["/${VIP%:*}"], ports: {80: 8080},
   waypoint: {destination: {address: "/$NET.1"}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: app-allow-client, namespace: bench}
spec:
  targetRefs: [{kind: Service, group: "", name: app}]
  rules:
  - from: [{source: {principals: ["cluster.local/ns/bench/sa/bench-client"]}}]
    to: [{operation: {methods: ["GET"], paths: ["/api/*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: bench}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: bench-waypoint}]
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin", "/admin/*"]}}]
  - when: [{key: "request.headers[x-user]", values: ["admin"]}]
YAML
cat > "$OUT/haproxy.cfg" <<CFG
global
    nbthread 2
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind $HAPROXY
    acl api path_beg /api/
    acl admin path /admin
    acl admin path_beg /admin/
    acl xadmin req.hdr(x-user) -m str admin
    http-request deny deny_status 403 if admin or xadmin
    http-request deny deny_status 403 unless api METH_GET
    use_backend be_h2 if { fc_http_major 2 }
    default_backend be_h1
backend be_h1
    http-reuse always
    server app $APP
backend be_h2
    server app $APP proto h2
CFG
haproxy -c -f "$OUT/haproxy.cfg" > "$OUT/haproxy-check.log" 2>&1 || { cat "$OUT/haproxy-check.log" >&2; exit 1; }

# --- start -------------------------------------------------------------------------------------------------
BENCH=("$JAVA" "${JVM_FLAGS[@]}" -cp "$JAR" io.ambit.bench.waypoint.WaypointBench)
start targets_pid "$OUT/targets.log" "${BENCH[@]}" targets --app "$APP" --node "$NODE" --ca "$OUT/ca" \
    --identity spiffe://cluster.local/ns/bench/sa/app
wait_line "$OUT/targets.log" '^ready' "$targets_pid"
# shellcheck disable=SC2086
start wp_pid "$OUT/waypoint.log" "$JAVA" "${JVM_FLAGS[@]}" ${WP_JAVA_OPTS:-} -cp "$JAR" io.ambit.bench.waypoint.WaypointBench \
    waypoint --mesh "$OUT/mesh.yaml" --ca "$OUT/ca"
wait_line "$OUT/waypoint.log" '^ready' "$wp_pid"
start client_pid "$OUT/client.log" "${BENCH[@]}" client --listen "$CLIENT" --waypoint "$WAYPOINT" \
    --waypoint-identity spiffe://cluster.local/ns/bench/sa/bench-waypoint --target "$VIP" --ca "$OUT/ca" \
    --identity spiffe://cluster.local/ns/bench/sa/bench-client
wait_line "$OUT/client.log" '^ready' "$client_pid"
start client2_pid "$OUT/client2.log" "${BENCH[@]}" client --listen "$CLIENT2" --waypoint "$NODE" \
    --waypoint-identity spiffe://cluster.local/ns/bench/sa/app --target "$HAPROXY" --ca "$OUT/ca" \
    --identity spiffe://cluster.local/ns/bench/sa/bench-client
wait_line "$OUT/client2.log" '^ready' "$client2_pid"
start haproxy_pid "$OUT/haproxy.log" haproxy -db -f "$OUT/haproxy.cfg"
sleep 1
kill -0 "$haproxy_pid" || { cat "$OUT/haproxy.log" >&2; exit 1; }
echo "== waypoint PID $wp_pid; targets PID $targets_pid; client PID $client_pid; haproxy PID $haproxy_pid"

url() { # setup proto path
    local at
    case "$1" in
        direct) at=$APP ;;
        waypoint) at=$CLIENT ;;
        haproxy) at=$HAPROXY ;;
        haproxy-hbone) at=$CLIENT2 ;;
    esac
    echo "http://$at$3"
}
proto_flags() { [[ "$1" == h2 ]] && echo "-m $STREAMS" || echo "--h1 -m 1"; }

# Sanity: allowed 200, denied 403, on every path and protocol (the ACLs really apply).
for setup in direct waypoint haproxy haproxy-hbone; do
    for proto in h1 h2; do
        flag=$([[ "$proto" == h2 ]] && echo --http2-prior-knowledge || echo --http1.1)
        ok=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$flag" "$(url "$setup" "$proto" /api/items)")
        denied=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$flag" "$(url "$setup" "$proto" /admin)")
        echo "   sanity $setup $proto: /api/items $ok, /admin $denied"
        [[ "$ok" == 200 ]] || { echo "sanity failed for $setup $proto" >&2; exit 1; }
        [[ "$setup" == direct || "$denied" == 403 ]] || { echo "the ACL does not apply for $setup $proto" >&2; exit 1; }
    done
done

echo "   warming the waypoint JVM for ${JIT_WARMUP}s"
h2load --h1 -c 8 -D $((JIT_WARMUP / 2)) "$(url waypoint h1 /api/items)" > /dev/null 2>&1 || true
h2load -m 10 -c 8 -D $((JIT_WARMUP / 2)) "$(url waypoint h2 /api/items)" > /dev/null 2>&1 || true
sleep 2
t0=$(cpu_ticks "$wp_pid")
sleep 5
idle_ticks_per_s=$(awk -v t=$(($(cpu_ticks "$wp_pid") - t0)) 'BEGIN { printf "%.3f", t / 5 }')

throughput() { # setup proto round
    local line before after n rps
    # shellcheck disable=SC2046
    h2load $(proto_flags "$2") -c "$CONNS" -D "$WARMUP" "$(url "$1" "$2" /api/items)" > /dev/null 2>&1 || true
    before=$(cpu_ticks "$wp_pid")
    local hb
    hb=$(($(cpu_ticks "$client_pid") + $(cpu_ticks "$targets_pid")))
    # shellcheck disable=SC2046
    line=$(h2load $(proto_flags "$2") -c "$CONNS" -D "$DURATION" "$(url "$1" "$2" /api/items)" 2>&1 | tee "$OUT/tput-$1-$2-$3.txt")
    after=$(cpu_ticks "$wp_pid")
    local ha
    ha=$(($(cpu_ticks "$client_pid") + $(cpu_ticks "$targets_pid")))
    rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<< "$line")
    n=$(sed -n 's/^requests: [0-9]* total, [0-9]* started, \([0-9]*\) done.*/\1/p' <<< "$line")
    local ok
    ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<< "$line")
    record "$1" "$2" rps "$3" "${rps:-0}"
    record "$1" "$2" ok "$3" "${ok:-0}"
    if [[ "$1" == waypoint && -n "$n" && "$n" -gt 0 ]]; then
        record waypoint "$2" cpu_us_at_max "$3" \
            "$(awk -v t=$((after - before)) -v i="$idle_ticks_per_s" -v s="$DURATION" -v n="$n" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (t - i * s) / hz * 1e6 / n }')"
        record waypoint "$2" harness_cpu_us "$3" \
            "$(awk -v t=$((ha - hb)) -v n="$n" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
    fi
    printf '  %-13s %-2s throughput %9s req/s (%s 2xx of %s)\n' "$1" "$2" "${rps:-0}" "${ok:-0}" "${n:-0}"
}

latency() { # setup proto round
    local log="$OUT/lat-$1-$2-$3.log" before after per_client n p
    per_client=$((RATE / CLIENTS))
    # shellcheck disable=SC2046
    h2load $(proto_flags "$2" | sed 's/-m [0-9]*/-m 1/') -c "$CLIENTS" --rps "$per_client" -D "$WARMUP" \
        "$(url "$1" "$2" /api/items)" > /dev/null 2>&1 || true
    before=$(cpu_ticks "$wp_pid")
    # shellcheck disable=SC2046
    h2load $(proto_flags "$2" | sed 's/-m [0-9]*/-m 1/') -c "$CLIENTS" --rps "$per_client" -D "$DURATION" \
        --log-file "$log" "$(url "$1" "$2" /api/items)" > "$OUT/lat-$1-$2-$3.txt" 2>&1 || true
    after=$(cpu_ticks "$wp_pid")
    n=$(awk '$2 == 200' "$log" | wc -l)
    for p in 50 90 99; do
        record "$1" "$2" "p${p}_us" "$3" "$(awk '$2 == 200 { print $3 }' "$log" | sort -n \
            | awk -v p="$p" '{ v[NR] = $1 } END { if (NR == 0) print 0; else { i = int(NR * p / 100); if (i < 1) i = 1; print v[i] } }')"
    done
    record "$1" "$2" lat_requests "$3" "$n"
    if [[ "$1" == waypoint && "$n" -gt 0 ]]; then
        record waypoint "$2" cpu_us_at_rate "$3" \
            "$(awk -v t=$((after - before)) -v i="$idle_ticks_per_s" -v s="$DURATION" -v n="$n" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (t - i * s) / hz * 1e6 / n }')"
    fi
    printf '  %-13s %-2s at %d req/s: p50 %6s p90 %6s p99 %6s us (%s ok)\n' "$1" "$2" "$RATE" \
        "$(median "$1" "$2" p50_us)" "$(median "$1" "$2" p90_us)" "$(median "$1" "$2" p99_us)" "$n"
}

for ((round = 1; round <= ROUNDS; round++)); do
    echo "== round $round of $ROUNDS"
    for proto in h1 h2; do
        for setup in direct waypoint haproxy haproxy-hbone; do throughput "$setup" "$proto" "$round"; done
        for setup in direct waypoint haproxy haproxy-hbone; do latency "$setup" "$proto" "$round"; done
    done
done
rss=$(rss_kb "$wp_pid")
record waypoint all rss_kb 1 "$rss"

{
    echo
    echo "== summary: medians of $ROUNDS round(s); $(date -u +%FT%TZ); $(nproc) CPUs; h2load $CONNS connections" \
        "(h2: $STREAMS streams each), ${DURATION}s; latency at $RATE req/s over $CLIENTS clients"
    printf '%-13s %-3s %12s %9s %9s %9s %14s %14s\n' setup pr 'req/s' 'p50 us' 'p90 us' 'p99 us' 'cpu us/req max' 'cpu us/req rate'
    for proto in h1 h2; do
        for s in direct waypoint haproxy haproxy-hbone; do
            printf '%-13s %-3s %12s %9s %9s %9s %14s %14s\n' "$s" "$proto" "$(median "$s" "$proto" rps)" \
                "$(median "$s" "$proto" p50_us)" "$(median "$s" "$proto" p90_us)" "$(median "$s" "$proto" p99_us)" \
                "$(median "$s" "$proto" cpu_us_at_max)" "$(median "$s" "$proto" cpu_us_at_rate)"
        done
    done
    echo "waypoint RSS after GC: $((rss / 1024)) MiB; harness (client + node JVMs) CPU per request at max: h1 $(median waypoint h1 harness_cpu_us) us, h2 $(median waypoint h2 harness_cpu_us) us"
    for proto in h1 h2; do
        awk -v p="$proto" -v w="$(median waypoint "$proto" rps)" -v h="$(median haproxy "$proto" rps)" \
            -v c="$(median waypoint "$proto" cpu_us_at_rate)" -v d50="$(median direct "$proto" p50_us)" \
            -v w50="$(median waypoint "$proto" p50_us)" -v d99="$(median direct "$proto" p99_us)" \
            -v w99="$(median waypoint "$proto" p99_us)" -v h50="$(median haproxy "$proto" p50_us)" -v h99="$(median haproxy "$proto" p99_us)" \
            -v hh="$(median haproxy-hbone "$proto" rps)" '
            function v(ok) { return ok ? "PASS" : "FAIL" }
            BEGIN {
                printf "%s: added latency waypoint p50 %d us, p99 %d us (haproxy p50 %d us, p99 %d us)\n", p, w50 - d50, w99 - d99, h50 - d50, h99 - d99
                printf "%s: target CPU <= 150 us per request (waypoint JVM, at the fixed rate): %s (%.1f us)\n", p, v(c <= 150), c
                printf "%s: target req/s >= 1.0x HAProxy:                                   %s (%.2fx)\n", p, v(h > 0 && w / h >= 1.0), (h > 0 ? w / h : 0)
                printf "%s: req/s vs HAProxy behind the same two HBONE hops:              %.2fx\n", p, (hh > 0 ? w / hh : 0)
            }'
    done
} | tee "$OUT/summary.txt"
