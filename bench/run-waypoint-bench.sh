#!/usr/bin/env bash
# Waypoint benchmark: the same HTTP traffic, in one run, (1) directly to the app, (2) through the Ambit
# waypoint with an AuthorizationPolicy (client -> HBONE -> waypoint -> HBONE -> node -> app), (3) through
# HAProxy (Debian) with a comparable ACL, plaintext (client -> HAProxy -> app), (4) the same HAProxy behind
# the waypoint path's two HBONE hops, and (5) HAProxy doing the waypoint's security work: mutual TLS in and
# out, between a client hop and a node hop like the waypoint's (the like-for-like comparison); HTTP/1.1 and
# HTTP/2 (prior knowledge). See bench/README.md, section "Waypoint", for what each number means.
#
#   bench/run-waypoint-bench.sh                     about 8 minutes
#   ROUNDS=3 SKIP_BUILD=1 bench/run-waypoint-bench.sh
#   WP_JAR=...                                     the "waypoint" slot's build (default: this tree's bench jar);
#                                                  with WP_OLD_JAR, swapping the two checks that a difference
#                                                  follows the build, not the slot (JIT variance between JVMs)
#   WP_OLD_JAR=/tmp/old/ambit-bench.jar ...        adds "waypoint-old": the same waypoint from another build,
#                                                  side by side (its own JVM, client hop and address);
#                                                  WP_OLD_JAR may be a class path, WP_OLD_JAVA_OPTS its JVM options
#                                                  (e.g. the same jar with logback and the CLI's logback.xml, to
#                                                  cost the access log)
#
# Processes (each its own JVM, so CPU and memory are the waypoint's alone), all on 127.97.200.0/24:
#   targets     io.ambit.bench.waypoint.WaypointBench targets: the app (64-byte answers, h1 + h2c) on .21:8080
#               and the destination node's HBONE server on .21:15008 (a ztunnel's inbound, in miniature)
#   waypoint    WaypointBench waypoint: the waypoint the generated mesh declares, on .1:15008 (metrics .1:15020)
#   client      WaypointBench client: the source ztunnel in miniature, a TCP port on .10:18000 tunnelled over
#               pooled HBONE to the waypoint with :authority = the service VIP 127.97.201.1:80, pooled as Ambit's
#               ztunnel pools (CLIENT_POOL=per-loop: one HBONE connection per event loop)
#   haproxy     haproxy -f (generated): plaintext HTTP/1.1 and HTTP/2 prior knowledge on .30:8081, and mutual
#               TLS on .31:8443 (bind ssl crt/ca-file/verify required; server ssl crt/ca-file/verify required),
#               each with the ACL of the policy
#   client2     WaypointBench client again (.11:18001), tunnelling to the app's node, which dials HAProxy: setup
#               "haproxy-hbone" puts plaintext HAProxy behind the same two HBONE hops as the waypoint path
#   tls-client  WaypointBench tls-client (.12:18002): TCP in, mutual TLS out to HAProxy's .31:8443
#   tls-node    WaypointBench tls-node (.22:8443): mutual TLS in (HAProxy's client certificate), TCP to the app.
#               Setup "haproxy-mtls" = h2load -> tls-client -> HAProxy (mTLS in, ACL, mTLS out) -> tls-node -> app:
#               like the waypoint, HAProxy terminates and originates mutual TLS with certificates of the same CA,
#               between a client hop and a node hop (TLS only: no HTTP/2 CONNECT layer, so these hops cost
#               less than the waypoint's HBONE hops; their CPU is reported)
# Load: h2load (nghttp2-client). Throughput: closed loop, CONNS connections (h2: STREAMS streams each) for
# DURATION s after a WARMUP s warm-up. Latency: open loop at RATE req/s in total (h2load --rps over CLIENTS
# clients) for DURATION s, percentiles from h2load's per-request log. CPU: user+system ticks (/proc/PID/stat)
# around each run, per request, net of the process's idle rate: the proxy under test (waypoint or HAProxy) at
# saturation and at the fixed rate (the cleanest per-proxy figure: same rate, same requests), the harness
# (all bench JVMs: hops and app) separately, and the whole machine (busy ticks of all CPUs in /proc/stat: every
# process, h2load included). With every CPU busy, req/s is CPUs / machine CPU per request: the summary says how
# far a waypoint costing nothing could go against HAProxy with the rest of its path as it is. Memory: VmRSS
# after a full GC.
# Everything is on loopback; every wait is bounded; on exit only the processes started here are stopped, by PID.
#
# Before any measurement each waypoint JVM gets JIT_WARMUP s of traffic (half HTTP/1.1, half HTTP/2): a cold
# JVM would otherwise measure its compiler. So do the paths through HAProxy that have JVM hops (haproxy-hbone,
# haproxy-mtls), for HOPS_WARMUP s: their client and node hops would otherwise compile during HAProxy's first
# round (with THREADS=1 the C2 compiler threads of its tls-client and tls-node took 11 % and 6 % of a CPU in
# HAProxy-mTLS's first measured round), which costs HAProxy's path, not the waypoint's. JIT_WARMUP is 60 s rather
# than 20: after 20 s the waypoint's C2 compiler threads still took 16 % of a CPU in the first measured round
# (THREADS=1), after 60 s 2 %; the waypoint's CPU per HTTP/2 request at 1,000 req/s then measured 96-120 us per
# round instead of 104-208 us (bench/README "Waypoint", seventh session).
#
# PIN=1 pins the proxies (waypoints, HAProxy with one thread) to CPU 1 and everything else (h2load, harness
# JVMs) to CPU 0, so the proxy under test has a core of its own; throughput is then the smaller of what that
# core and what the harness core can do (the summary says which one ran out).
#
# Rounds alternate the order of "waypoint" and "waypoint-old" (odd rounds new first, even rounds old first), so
# neither build always runs right after the other's load; the summary gives, besides the medians, the median of
# the per-round ratios (each round measures both under the same conditions of this shared machine).
#
# PROFILE=1: after the rounds, one more saturation run per waypoint setup and protocol under Java Flight
# Recorder (JFR's "profile" settings with method-profiling=PROFILE_LEVEL: max samples Java code every 1 ms;
# not part of any number above): the recording
# ($OUT/profile-<setup>-<proto>.jfr) and its summary (profile-<setup>-<proto>.txt: WaypointBench profile —
# own and inclusive time by method, by nearest Ambit frame, native waits, bytes allocated per request, GC).
# With PROFILE=1 both waypoint JVMs run with -XX:+DebugNonSafepoints (exact attribution of inlined code).
#
# THREADS=1: every throughput run also writes threads-<setup>-<proto>-<round>.txt: the CPU of every thread of
# every process in the path (the proxies and the harness JVMs; /proc/PID/task/*/stat around the run), busiest
# first, in % of one CPU. A stage at ~100 % is the one the path waits for; the file also says how many CPUs the
# whole path kept busy.
#
# Settings (environment): DURATION=10 WARMUP=5 JIT_WARMUP=60 HOPS_WARMUP=20 CONNS=16 STREAMS=10 RATE=1000 CLIENTS=4 ROUNDS=1
#   SETUPS="direct waypoint haproxy haproxy-hbone haproxy-mtls" PROTOS="h1 h2" PIN=0 PROFILE=0 PROFILE_LEVEL=max
#   THREADS=0 CLIENT_JAVA_OPTS (the HBONE client hops' JVMs: client, client-old, client2; default HARNESS_JAVA_OPTS;
#   e.g. -Dambit.eventLoops=1 puts each client hop's sockets on the loop of its one HBONE connection)
#   CLIENT_POOL=per-loop|shared (the HBONE client hops' pool. per-loop, the default: what Ambit's ztunnel does
#   (OutboundFlow asks HbonePool for a connection on the client socket's own event loop), a pooled connection per
#   event loop, each socket's tunnel on its own loop's connection, a second one on a loop only at the stream limit;
#   shared: one connection for all their sockets until the stream limit, the harness default before the seventh
#   session — bench/README "Waypoint", fifth and seventh sessions)
#   CLIENT_OLD_POOL (the waypoint-old slot's client hop's pool, default CLIENT_POOL: with WP_OLD_JAR set to this
#   tree's jar, CLIENT_POOL=per-loop CLIENT_OLD_POOL=shared measures the two pools side by side)
#   WP_OLD_HOPS=1 (the waypoint-old slot's client hop runs from WP_OLD_JAR too: to compare a change to the hops'
#   code, hbone's relay or pool, along with the waypoint)
#   WP_JAVA_OPTS (waypoint JVMs; default: Netty leak detection off and SCHED_BATCH loops, as in production) HARNESS_JAVA_OPTS
#   WP_OLD_JAR WP_OLD_JAVA_OPTS (default: WP_JAVA_OPTS) SKIP_BUILD=1
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
JAR=bench/target/ambit-bench.jar
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
JIT_WARMUP="${JIT_WARMUP:-60}"
HOPS_WARMUP="${HOPS_WARMUP:-20}"
CONNS="${CONNS:-16}"
STREAMS="${STREAMS:-10}"
RATE="${RATE:-1000}"
CLIENTS="${CLIENTS:-4}"
ROUNDS="${ROUNDS:-1}"
PIN="${PIN:-0}"
PROFILE="${PROFILE:-0}"
PROFILE_LEVEL="${PROFILE_LEVEL:-max}"
THREADS="${THREADS:-0}"
PROTOS="${PROTOS:-h1 h2}"
SETUPS="${SETUPS:-direct waypoint haproxy haproxy-hbone haproxy-mtls}"
WP_JAR="${WP_JAR:-$JAR}"
WP_OLD_JAR="${WP_OLD_JAR:-}"
[[ -n "$WP_OLD_JAR" && " $SETUPS " != *" waypoint-old "* ]] && SETUPS="${SETUPS/waypoint/waypoint waypoint-old}"
# Netty samples 1 buffer in 128 for leak detection and records a stack trace for it: a few per cent of a
# proxy's CPU. Production runs without it (deploy/waypoint/deployment.yaml); tests keep it paranoid.
NO_LEAK_DETECTION=-Dio.netty.leakDetection.level=disabled
# The waypoint as `ambit waypoint` runs it: its event loops under SCHED_BATCH (the launcher's default since the seventh
# session; bench/README "Waypoint"). The harness hops keep the kernel's default policy.
WP_JAVA_OPTS="${WP_JAVA_OPTS-$NO_LEAK_DETECTION -Dambit.eventLoopScheduling=batch}"
HARNESS_JAVA_OPTS="${HARNESS_JAVA_OPTS-$NO_LEAK_DETECTION}"
WP_OLD_JAVA_OPTS="${WP_OLD_JAVA_OPTS-$WP_JAVA_OPTS}"
CLIENT_JAVA_OPTS="${CLIENT_JAVA_OPTS-$HARNESS_JAVA_OPTS}"
WP_OLD_HOPS="${WP_OLD_HOPS:-0}"
CLIENT_POOL="${CLIENT_POOL:-per-loop}"
CLIENT_OLD_POOL="${CLIENT_OLD_POOL:-$CLIENT_POOL}"
if [[ "$PROFILE" == 1 ]]; then
    # Without it a sample in inlined code is attributed to the nearest safepoint's method, often a neighbour.
    PRECISE="-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints"
    WP_JAVA_OPTS="$WP_JAVA_OPTS $PRECISE"
    WP_OLD_JAVA_OPTS="$WP_OLD_JAVA_OPTS $PRECISE"
fi
CLK_TCK="$(getconf CLK_TCK)"
JVM_FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)

NET=127.97.200
APP="$NET.21:8080"
NODE="$NET.21:15008"
WAYPOINT="$NET.1:15008"
WAYPOINT_OLD="$NET.2:15008"
CLIENT="$NET.10:18000"
CLIENT_OLD="$NET.13:18003"
HAPROXY="$NET.30:8081"
HAPROXY_TLS="$NET.31:8443"
CLIENT2="$NET.11:18001"
TLS_CLIENT="$NET.12:18002"
TLS_NODE="$NET.22:8443"
VIP="127.97.201.1:80"
ID=spiffe://cluster.local/ns/bench/sa

for tool in h2load haproxy curl; do
    command -v "$tool" > /dev/null || { echo "$tool is not installed (apt-get install nghttp2-client haproxy curl)" >&2; exit 2; }
done
[[ "$PIN" != 1 ]] || command -v taskset > /dev/null || { echo "PIN=1 needs taskset (util-linux)" >&2; exit 2; }
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    ./mvnw -B -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
fi
[[ -f "$JAR" ]] || { echo "no $JAR (build failed?)" >&2; exit 1; }
[[ -z "$WP_OLD_JAR" || -f "${WP_OLD_JAR%%:*}" ]] || { echo "WP_OLD_JAR=$WP_OLD_JAR: no such file" >&2; exit 1; }
[[ -f "${WP_JAR%%:*}" ]] || { echo "WP_JAR=$WP_JAR: no such file" >&2; exit 1; }

OUT="bench/target/results/waypoint-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
echo "results and logs: $OUT"

# Processes we start (start, wait_line, stop_wait, cpu_ticks, rss_kb...): stopped on exit, by PID only.
# shellcheck source=lib/processes.sh
source bench/lib/processes.sh
RESULTS="$OUT/results.tsv" # "setup/proto" metric round value
# shellcheck source=lib/results.sh
source bench/lib/results.sh

full_gc_rss_kb() { # pid: VmRSS after a full GC
    "$JAVA_HOME/bin/jcmd" "$1" GC.run > /dev/null 2>&1 || true
    sleep 1
    rss_kb "$1"
}
on_cpu() { # cpu command...: runs the command (pinned to the CPU when PIN=1) in place of the calling shell:
    # for `start`, whose background subshell then has the command's PID
    local cpu=$1
    shift
    if [[ "$PIN" == 1 ]]; then exec taskset -c "$cpu" "$@"; else exec "$@"; fi
}
pin() { # cpu pid...: every thread of running processes to a CPU when PIN=1
    local cpu=$1 pid
    shift
    if [[ "$PIN" == 1 ]]; then
        for pid in "$@"; do taskset -a -cp "$cpu" "$pid" > /dev/null; done
    fi
}

# --- the mesh, the policy, and HAProxy's equivalent --------------------------------------------------------
mesh() { # waypoint-ip: the mesh with its waypoint on that IP
    cat <<YAML
mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
workloads:
- {name: bench-client, namespace: bench, serviceAccount: bench-client, workloadIps: ["$NET.10", "$NET.13"]}
- name: bench-waypoint
  namespace: bench
  serviceAccount: bench-waypoint
  workloadIps: ["$1"]
  labels: {gateway.networking.k8s.io/gateway-name: bench-waypoint}
- {name: app-1, namespace: bench, serviceAccount: app, workloadIps: ["$NET.21"], services: {"bench/app.bench.svc.cluster.local": {80: 8080}}}
services:
- {name: app, namespace: bench, hostname: app.bench.svc.cluster.local, vips: ["/${VIP%:*}"], ports: {80: 8080},
   waypoint: {destination: {address: "/$1"}}}
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
}
mesh "$NET.1" > "$OUT/mesh.yaml"
mesh "${WAYPOINT_OLD%:*}" > "$OUT/mesh-old.yaml"
acl() { # the policy as HAProxy ACLs (HAProxy 2.6 cannot read a SPIFFE URI SAN: the mTLS frontend checks the
    # client's chain, not its identity; the waypoint also checks the principal)
    cat <<CFG
    acl api path_beg /api/
    acl admin path /admin
    acl admin path_beg /admin/
    acl xadmin req.hdr(x-user) -m str admin
    http-request deny deny_status 403 if admin or xadmin
    http-request deny deny_status 403 unless api METH_GET
CFG
}
write_haproxy_cfg() {
    local tls="ssl crt $OUT/haproxy.pem ca-file $OUT/root.pem verify required"
    cat <<CFG
global
    nbthread $([[ "$PIN" == 1 ]] && echo 1 || echo 2)
    maxconn 4000
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384
    ssl-default-bind-options ssl-min-ver TLSv1.3
    ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384
    ssl-default-server-options ssl-min-ver TLSv1.3
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind $HAPROXY
$(acl)
    use_backend be_h2 if { fc_http_major 2 }
    default_backend be_h1
backend be_h1
    http-reuse always
    server app $APP
backend be_h2
    server app $APP proto h2
frontend fe_mtls
    bind $HAPROXY_TLS $tls
$(acl)
    use_backend be_mtls_h2 if { fc_http_major 2 }
    default_backend be_mtls_h1
backend be_mtls_h1
    http-reuse always
    server node $TLS_NODE $tls
backend be_mtls_h2
    server node $TLS_NODE $tls proto h2
CFG
}

# --- start -------------------------------------------------------------------------------------------------
BENCH=("$JAVA" "${JVM_FLAGS[@]}" $HARNESS_JAVA_OPTS -cp "$JAR" io.ambit.bench.waypoint.WaypointBench)
start targets_pid "$OUT/targets.log" on_cpu 0 "${BENCH[@]}" targets --app "$APP" --node "$NODE" --ca "$OUT/ca" \
    --identity "$ID/app"
wait_line "$OUT/targets.log" '^ready' "$targets_pid"
waypoint_jvm() { # var log class-path mesh java-options: a waypoint JVM
    # shellcheck disable=SC2086
    start "$1" "$2" on_cpu 1 "$JAVA" "${JVM_FLAGS[@]}" $5 -cp "$3" io.ambit.bench.waypoint.WaypointBench \
        waypoint --mesh "$4" --ca "$OUT/ca"
    wait_line "$2" '^ready' "${!1}"
}
hbone_client() { # var log listen waypoint waypoint-identity target [class-path [pool]]
    # shellcheck disable=SC2086
    start "$1" "$2" on_cpu 0 "$JAVA" "${JVM_FLAGS[@]}" $CLIENT_JAVA_OPTS -cp "${7:-$JAR}" \
        io.ambit.bench.waypoint.WaypointBench client --listen "$3" --waypoint "$4" --waypoint-identity "$5" \
        --target "$6" --ca "$OUT/ca" --identity "$ID/bench-client" --pool "${8:-$CLIENT_POOL}"
    wait_line "$2" '^ready' "${!1}"
}
waypoint_jvm wp_pid "$OUT/waypoint.log" "$WP_JAR" "$OUT/mesh.yaml" "$WP_JAVA_OPTS"
hbone_client client_pid "$OUT/client.log" "$CLIENT" "$WAYPOINT" "$ID/bench-waypoint" "$VIP"
wpold_pid=
client_old_pid=
if [[ -n "$WP_OLD_JAR" ]]; then
    waypoint_jvm wpold_pid "$OUT/waypoint-old.log" "$WP_OLD_JAR" "$OUT/mesh-old.yaml" "$WP_OLD_JAVA_OPTS"
    hbone_client client_old_pid "$OUT/client-old.log" "$CLIENT_OLD" "$WAYPOINT_OLD" "$ID/bench-waypoint" "$VIP" \
        "$([[ "$WP_OLD_HOPS" == 1 ]] && echo "$WP_OLD_JAR" || echo "$JAR")" "$CLIENT_OLD_POOL"
fi
hbone_client client2_pid "$OUT/client2.log" "$CLIENT2" "$NODE" "$ID/app" "$HAPROXY"
"${BENCH[@]}" pem --ca "$OUT/ca" --identity "$ID/bench-haproxy" --out "$OUT/haproxy.pem" --root-out "$OUT/root.pem" \
    > "$OUT/pem.log" 2>&1 || { cat "$OUT/pem.log" >&2; exit 1; }
start tls_client_pid "$OUT/tls-client.log" on_cpu 0 "${BENCH[@]}" tls-client --listen "$TLS_CLIENT" \
    --target "$HAPROXY_TLS" --server-identity "$ID/bench-haproxy" --ca "$OUT/ca" --identity "$ID/bench-client"
wait_line "$OUT/tls-client.log" '^ready' "$tls_client_pid"
start tls_node_pid "$OUT/tls-node.log" on_cpu 0 "${BENCH[@]}" tls-node --listen "$TLS_NODE" --target "$APP" \
    --ca "$OUT/ca" --identity "$ID/app"
wait_line "$OUT/tls-node.log" '^ready' "$tls_node_pid"
write_haproxy_cfg > "$OUT/haproxy.cfg"
haproxy -c -f "$OUT/haproxy.cfg" > "$OUT/haproxy-check.log" 2>&1 || { cat "$OUT/haproxy-check.log" >&2; exit 1; }
start haproxy_pid "$OUT/haproxy.log" on_cpu 1 haproxy -db -f "$OUT/haproxy.cfg"
wait_listen "$HAPROXY_TLS" "$haproxy_pid"
HARNESS_PIDS=("$targets_pid" "$client_pid" "$client2_pid" "$tls_client_pid" "$tls_node_pid" ${client_old_pid:+"$client_old_pid"})
echo "== waypoint PID $wp_pid${wpold_pid:+, waypoint-old PID $wpold_pid}; haproxy PID $haproxy_pid; harness PIDs ${HARNESS_PIDS[*]}"

url() { # setup path
    local at
    case "$1" in
        direct) at=$APP ;;
        waypoint) at=$CLIENT ;;
        waypoint-old) at=$CLIENT_OLD ;;
        haproxy) at=$HAPROXY ;;
        haproxy-hbone) at=$CLIENT2 ;;
        haproxy-mtls) at=$TLS_CLIENT ;;
    esac
    echo "http://$at$2"
}
proxy_pid() { # setup: the PID of the proxy under test, or nothing (direct)
    case "$1" in
        waypoint) echo "$wp_pid" ;;
        waypoint-old) echo "$wpold_pid" ;;
        haproxy*) echo "$haproxy_pid" ;;
    esac
}
proto_flags() { [[ "$1" == h2 ]] && echo "-m $STREAMS" || echo "--h1 -m 1"; }
load() { if [[ "$PIN" == 1 ]]; then taskset -c 0 h2load "$@"; else h2load "$@"; fi; }

# Sanity: allowed 200, denied 403, on every path and protocol (the ACLs really apply).
for setup in $SETUPS; do
    for proto in $PROTOS; do
        flag=$([[ "$proto" == h2 ]] && echo --http2-prior-knowledge || echo --http1.1)
        ok=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$flag" "$(url "$setup" /api/items)" || true)
        denied=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$flag" "$(url "$setup" /admin)" || true)
        echo "   sanity $setup $proto: /api/items $ok, /admin $denied"
        [[ "$ok" == 200 ]] || { echo "sanity failed for $setup $proto" >&2; exit 1; }
        [[ "$setup" == direct || "$denied" == 403 ]] || { echo "the ACL does not apply for $setup $proto" >&2; exit 1; }
    done
done
pin 1 "$wp_pid" ${wpold_pid:+"$wpold_pid"} "$haproxy_pid"
pin 0 "${HARNESS_PIDS[@]}"

for setup in waypoint waypoint-old haproxy-hbone haproxy-mtls; do
    [[ " $SETUPS " == *" $setup "* ]] || continue
    warm=$([[ "$setup" == waypoint* ]] && echo "$JIT_WARMUP" || echo "$HOPS_WARMUP")
    echo "   warming the $setup path's JVMs for ${warm}s"
    load --h1 -c 8 -D $((warm / 2)) "$(url "$setup" /api/items)" > /dev/null 2>&1 || true
    load -m 10 -c 8 -D $((warm / 2)) "$(url "$setup" /api/items)" > /dev/null 2>&1 || true
done
sleep 2
declare -A IDLE # proxy PID -> idle ticks per second
idle_pids=("$wp_pid" "$haproxy_pid" ${wpold_pid:+"$wpold_pid"})
declare -A t0
for pid in "${idle_pids[@]}"; do t0[$pid]=$(cpu_ticks "$pid"); done
sleep 5
for pid in "${idle_pids[@]}"; do IDLE[$pid]=$(awk -v t=$(($(cpu_ticks "$pid") - t0[$pid])) 'BEGIN { printf "%.3f", t / 5 }'); done

machine_ticks() { # busy ticks of all CPUs (user, nice, system, irq, softirq, steal): every process, h2load too
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
per_request_us() { # ticks idle-ticks-per-s seconds requests: CPU microseconds per request, net of idle
    awk -v t="$1" -v i="$2" -v s="$3" -v n="$4" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (t - i * s) / hz * 1e6 / n }'
}

thread_ticks() { # pid...: "pid/tid<TAB>name<TAB>ticks" for every thread of the processes (user+system)
    local pid
    for pid in "$@"; do
        # "tid (name) state ...": the name may hold spaces and parentheses, so split at the last ") "
        cat /proc/"$pid"/task/*/stat 2> /dev/null | awk -v pid="$pid" '{
            i = index($0, " ("); j = 0; for (k = length($0); k > 0; k--) if (substr($0, k, 2) == ") ") { j = k; break }
            split(substr($0, j + 2), f, " ")
            printf "%s/%s\t%s\t%d\n", pid, substr($0, 1, i - 1), substr($0, i + 2, j - i - 2), f[12] + f[13] }'
    done
}
thread_report() { # before-file after-file seconds: per-thread CPU % of one CPU, busiest first (>= 1 %)
    awk -F'\t' -v s="$3" -v hz="$CLK_TCK" -v names="$4" '
        BEGIN { n = split(names, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); who[p[1]] = p[2] } }
        NR == FNR { t0[$1] = $3; next }
        { d = $3 - t0[$1]; if (d < 0) d = 0; split($1, id, "/"); pct = d / hz / s * 100; total += pct
          if (pct >= 1) printf "%6.1f %%  %-14s %-24s %s\n", pct, who[id[1]], $2, $1 }
        END { printf "%6.1f %%  all threads of these processes (%.2f CPUs)\n", total, total / 100 }' "$1" "$2" | sort -rn
}
thread_names() { # "pid=role" for the processes of the path
    echo "$wp_pid=waypoint ${wpold_pid:+$wpold_pid=waypoint-old} $haproxy_pid=haproxy $targets_pid=app+node" \
        "$client_pid=client $client2_pid=client2 $tls_client_pid=tls-client $tls_node_pid=tls-node" \
        "${client_old_pid:+$client_old_pid=client-old}"
}

throughput() { # setup proto round
    local key="$1/$2" pid line before after hb ha n rps ok
    pid=$(proxy_pid "$1")
    # shellcheck disable=SC2046
    load $(proto_flags "$2") -c "$CONNS" -D "$WARMUP" "$(url "$1" /api/items)" > /dev/null 2>&1 || true
    before=$([[ -n "$pid" ]] && cpu_ticks "$pid" || echo 0)
    hb=$(cpu_ticks "${HARNESS_PIDS[@]}")
    mb=$(machine_ticks)
    local all=("$wp_pid" ${wpold_pid:+"$wpold_pid"} "$haproxy_pid" "${HARNESS_PIDS[@]}")
    [[ "$THREADS" != 1 ]] || thread_ticks "${all[@]}" > "$OUT/.threads-before"
    # shellcheck disable=SC2046
    line=$(load $(proto_flags "$2") -c "$CONNS" -D "$DURATION" "$(url "$1" /api/items)" 2>&1 | tee "$OUT/tput-$1-$2-$3.txt")
    if [[ "$THREADS" == 1 ]]; then
        thread_ticks "${all[@]}" > "$OUT/.threads-after"
        thread_report "$OUT/.threads-before" "$OUT/.threads-after" "$DURATION" "$(thread_names)" \
            > "$OUT/threads-$1-$2-$3.txt"
    fi
    after=$([[ -n "$pid" ]] && cpu_ticks "$pid" || echo 0)
    ha=$(cpu_ticks "${HARNESS_PIDS[@]}")
    ma=$(machine_ticks)
    rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<< "$line")
    n=$(sed -n 's/^requests: [0-9]* total, [0-9]* started, \([0-9]*\) done.*/\1/p' <<< "$line")
    ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<< "$line")
    record "$key" rps "$3" "${rps:-0}"
    record "$key" ok "$3" "${ok:-0}"
    if [[ -n "$n" && "$n" -gt 0 ]]; then
        [[ -z "$pid" ]] || record "$key" cpu_us_at_max "$3" "$(per_request_us $((after - before)) "${IDLE[$pid]}" "$DURATION" "$n")"
        record "$key" harness_cpu_us "$3" "$(per_request_us $((ha - hb)) 0 "$DURATION" "$n")"
        record "$key" machine_cpu_us "$3" "$(per_request_us $((ma - mb)) 0 "$DURATION" "$n")"
    fi
    printf '  %-13s %-2s throughput %9s req/s (%s 2xx of %s)\n' "$1" "$2" "${rps:-0}" "${ok:-0}" "${n:-0}"
}

latency() { # setup proto round
    local key="$1/$2" log="$OUT/lat-$1-$2-$3.log" pid before after per_client n p
    pid=$(proxy_pid "$1")
    per_client=$((RATE / CLIENTS))
    # shellcheck disable=SC2046
    load $(proto_flags "$2" | sed 's/-m [0-9]*/-m 1/') -c "$CLIENTS" --rps "$per_client" -D "$WARMUP" \
        "$(url "$1" /api/items)" > /dev/null 2>&1 || true
    before=$([[ -n "$pid" ]] && cpu_ticks "$pid" || echo 0)
    # shellcheck disable=SC2046
    load $(proto_flags "$2" | sed 's/-m [0-9]*/-m 1/') -c "$CLIENTS" --rps "$per_client" -D "$DURATION" \
        --log-file "$log" "$(url "$1" /api/items)" > "$OUT/lat-$1-$2-$3.txt" 2>&1 || true
    after=$([[ -n "$pid" ]] && cpu_ticks "$pid" || echo 0)
    n=$(awk '$2 == 200' "$log" | wc -l)
    for p in 50 90 99; do
        record "$key" "p${p}_us" "$3" "$(awk '$2 == 200 { print $3 }' "$log" | sort -n \
            | awk -v p="$p" '{ v[NR] = $1 } END { if (NR == 0) print 0; else { i = int(NR * p / 100); if (i < 1) i = 1; print v[i] } }')"
    done
    record "$key" lat_requests "$3" "$n"
    if [[ -n "$pid" && "$n" -gt 0 ]]; then
        record "$key" cpu_us_at_rate "$3" "$(per_request_us $((after - before)) "${IDLE[$pid]}" "$DURATION" "$n")"
    fi
    printf '  %-13s %-2s at %d req/s: p50 %6s p90 %6s p99 %6s us (%s ok)\n' "$1" "$2" "$RATE" \
        "$(median "$key" p50_us)" "$(median "$key" p90_us)" "$(median "$key" p99_us)" "$n"
}

round_setups() { # round: SETUPS, with waypoint and waypoint-old swapped in even rounds
    if (($1 % 2 == 0)) && [[ " $SETUPS " == *" waypoint waypoint-old "* ]]; then
        local s=" $SETUPS "
        s="${s/ waypoint waypoint-old / waypoint-old waypoint }"
        echo $s
    else
        echo $SETUPS
    fi
}
for ((round = 1; round <= ROUNDS; round++)); do
    echo "== round $round of $ROUNDS"
    for proto in $PROTOS; do
        for setup in $(round_setups "$round"); do throughput "$setup" "$proto" "$round"; done
        for setup in $(round_setups "$round"); do latency "$setup" "$proto" "$round"; done
    done
done

profile() { # setup proto: a saturation run of that waypoint under JFR (not recorded as a result)
    local pid file="$OUT/profile-$1-$2"
    pid=$(proxy_pid "$1")
    "$JAVA_HOME/bin/jcmd" "$pid" JFR.start name=bench settings=profile "method-profiling=$PROFILE_LEVEL" \
        > "$file.log" 2>&1 || { echo "   JFR.start failed for $1 (see $file.log)"; return 0; }
    # shellcheck disable=SC2046
    load $(proto_flags "$2") -c "$CONNS" -D "$DURATION" "$(url "$1" /api/items)" > "$file-load.txt" 2>&1 || true
    "$JAVA_HOME/bin/jcmd" "$pid" JFR.stop name=bench filename="$file.jfr" >> "$file.log" 2>&1 || true
    n=$(sed -n 's/^requests: [0-9]* total, [0-9]* started, \([0-9]*\) done.*/\1/p' "$file-load.txt")
    "${BENCH[@]}" profile --jfr "$file.jfr" --requests "${n:-0}" > "$file.txt" 2>&1 || true
    echo "   profile of $1 $2 at saturation: $file.jfr, summary in $file.txt"
}
if [[ "$PROFILE" == 1 ]]; then
    for proto in $PROTOS; do
        for setup in waypoint waypoint-old; do
            [[ " $SETUPS " == *" $setup "* ]] && profile "$setup" "$proto"
        done
    done
fi
rss=$(full_gc_rss_kb "$wp_pid")
record waypoint/all rss_kb 1 "$rss"

ratio() { # a b: a / b with two decimals, or "-"
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
round_ratios() { # setup-a setup-b metric: "median (r1 r2 ...)" of a/b per round: both measured in the same round
    awk -F'\t' -v a="$1" -v b="$2" -v m="$3" '
        $2 == m && $1 == a { x[$3] = $4 }
        $2 == m && $1 == b { y[$3] = $4 }
        END {
            n = 0
            for (r = 1; r <= 1000; r++) if ((r in x) && (r in y) && y[r] + 0 != 0) { v[++n] = x[r] / y[r]; l = l sprintf(" %.2f", x[r] / y[r]) }
            if (n == 0) { print "-"; exit }
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            printf "%.2fx (rounds%s)", med, l
        }' "$RESULTS"
}
{
    echo
    echo "== summary: medians of $ROUNDS round(s); $(date -u +%FT%TZ); $(nproc) CPUs$([[ "$PIN" == 1 ]] && echo ', proxies pinned to CPU 1, the rest to CPU 0');" \
        "h2load $CONNS connections (h2: $STREAMS streams each), ${DURATION}s; latency at $RATE req/s over $CLIENTS clients;" \
        "HBONE client hops pooled $CLIENT_POOL${WP_OLD_JAR:+ (waypoint-old: $CLIENT_OLD_POOL)}"
    printf '%-13s %-3s %10s %8s %8s %8s %15s %16s %13s %13s %9s\n' setup pr 'req/s' 'p50 us' 'p90 us' 'p99 us' \
        'proxy us/req max' 'proxy us/req rate' 'harness us/req' 'machine us/req' 'busy CPUs'
    for proto in $PROTOS; do
        for s in $SETUPS; do
            k="$s/$proto"
            printf '%-13s %-3s %10s %8s %8s %8s %15s %16s %13s %13s %9s\n' "$s" "$proto" "$(median "$k" rps)" "$(median "$k" p50_us)" \
                "$(median "$k" p90_us)" "$(median "$k" p99_us)" "$(median "$k" cpu_us_at_max)" "$(median "$k" cpu_us_at_rate)" \
                "$(median "$k" harness_cpu_us)" "$(median "$k" machine_cpu_us)" \
                "$(awk -v r="$(median "$k" rps)" -v m="$(median "$k" machine_cpu_us)" 'BEGIN { if (r == "-" || m == "-") print "-"; else printf "%.2f", r * m / 1e6 }')"
        done
    done
    echo "waypoint RSS after GC: $((rss / 1024)) MiB"
    for proto in $PROTOS; do
        w=$(median "waypoint/$proto" rps)
        c=$(median "waypoint/$proto" cpu_us_at_rate)
        echo "$proto: target CPU <= 150 us per request (waypoint JVM, at $RATE req/s): $(awk -v c="$c" 'BEGIN { print (c != "-" && c <= 150) ? "PASS" : "FAIL" }') ($c us)"
        for h in haproxy-mtls haproxy haproxy-hbone; do
            [[ " $SETUPS " == *" $h "* ]] || continue
            r=$(ratio "$w" "$(median "$h/$proto" rps)")
            case $h in
                haproxy-mtls) what="like for like: HAProxy with mTLS in and out, between TLS hops" ;;
                haproxy) what="HAProxy plaintext, no hops (not like for like)" ;;
                haproxy-hbone) what="HAProxy plaintext behind the same two HBONE hops (not like for like)" ;;
            esac
            echo "$proto: waypoint req/s / $h: ${r}x$([[ $h == haproxy-mtls ]] && awk -v r="$r" 'BEGIN { print (r != "-" && r >= 1.0) ? " PASS" : " FAIL" }') ($what)"
            if [[ $h == haproxy-mtls ]]; then
                # With every CPU busy, req/s is the machine's CPU over the machine's CPU per request. Without any
                # cost of its own the waypoint path would still need (machine - waypoint) per request:
                echo "$proto:   bound set by the rest of the path: a waypoint costing nothing would reach $(awk \
                    -v mh="$(median "$h/$proto" machine_cpu_us)" -v mw="$(median "waypoint/$proto" machine_cpu_us)" \
                    -v w="$(median "waypoint/$proto" cpu_us_at_max)" \
                    'BEGIN { if (mh == "-" || mw == "-" || w == "-" || mw - w <= 0) print "-"; else printf "%.2f", mh / (mw - w) }')x" \
                    "of $h's req/s (machine CPU per request: $h $(median "$h/$proto" machine_cpu_us) us, waypoint path" \
                    "$(median "waypoint/$proto" machine_cpu_us) us of which the waypoint $(median "waypoint/$proto" cpu_us_at_max) us;" \
                    "a bound only when the busy CPUs are near $(nproc): otherwise the path is waiting, not computing)"
            fi
            echo "$proto:   CPU per request at $RATE req/s, waypoint / $h: $(ratio "$c" "$(median "$h/$proto" cpu_us_at_rate)")x"
        done
        for other in waypoint-old haproxy-mtls; do
            [[ " $SETUPS " == *" $other "* ]] || continue
            echo "$proto: waypoint / $other, median of per-round ratios: req/s $(round_ratios "waypoint/$proto" "$other/$proto" rps);" \
                "proxy CPU per request at saturation $(round_ratios "waypoint/$proto" "$other/$proto" cpu_us_at_max);" \
                "at $RATE req/s $(round_ratios "waypoint/$proto" "$other/$proto" cpu_us_at_rate);" \
                "harness CPU per request $(round_ratios "waypoint/$proto" "$other/$proto" harness_cpu_us)"
        done
    done
} | tee "$OUT/summary.txt"
