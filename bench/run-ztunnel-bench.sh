#!/usr/bin/env bash
# ztunnel benchmark: the same traffic directly to a target and through two Ambit ztunnels, each its own
# process (client -> SOCKS5 of node A's workload -> HBONE -> node B's workload :15008 -> the target), in one
# run. See bench/README.md, section "ztunnel", for what each number means.
#
#   bench/run-ztunnel-bench.sh                  about 8 minutes with ROUNDS=3 (the default)
#   ZT_JAVA_OPTS="-Xmx64m -XX:+UseSerialGC" bench/run-ztunnel-bench.sh
#   PHASES="latency" PROFILE=perf ROUNDS=1 bench/run-ztunnel-bench.sh     where the CPU goes
#
# Side by side: VARIANTS names several ztunnel pairs, each "name" or "name:CLI-JAR" (default: this
# checkout's cli/target/ambit-cli.jar), with JVM options from OPTS_<name> (default ZT_JAVA_OPTS). All pairs
# run at once on their own addresses and take turns in every round, so a change is measured against the
# previous code (another checkout's jar) or other options in the same run, under the same machine load:
#   VARIANTS="before:/tmp/old/cli/target/ambit-cli.jar after" bench/run-ztunnel-bench.sh
#   VARIANTS="loops4 loops1" OPTS_loops4="-Dambit.eventLoops=4" OPTS_loops1="-Dambit.eventLoops=1" ...
#
# The mesh is bench/ztunnel-mesh.yaml (moved to other addresses for the second and later variants); each
# node runs as `ambit ztunnel --mesh-file F --node N` (or, when a jar has no such command, as
# io.ambit.bench.ztunnel.ZtunnelNode from this checkout: the same node in its own JVM). The targets and the
# load generator are io.ambit.bench.ztunnel.SocksLoad, in their own JVMs; iperf3 is carried through SOCKS5
# by proxychains4 (or, without it, by SocksLoad's forwarder on both paths).
# Measured, direct and through each pair, in each round (medians over rounds in the summary):
#   bulk         one TCP stream of 64 KiB frames into the sink for TPUT_SECONDS; bytes counted by the sink
#   iperf3       iperf3 -P 1 and -P 4 for TPUT_SECONDS (when iperf3 is installed)
#   latency      RATE requests/s open loop over CONNECTIONS connections for LAT_SECONDS (after 3 s of the same):
#                keep-alive HTTP/1.1 GETs with a BODY-byte answer ("http"), and SIZE-byte echo round trips
#                ("echo"); HdrHistogram p50/p90/p99/p99.9, each request timed from when it was due
#   fortio       fortio load -qps RATE over forwarders (when fortio is installed)
#   floor        (PHASES+=" floor") the HTTP load through haproxy: one plain relay, and a mutual-TLS pair: what
#                the kernel and a minimal native proxy cost here, per request
#   connections  new connections/s for CONN_SECONDS from CONN_CONCURRENCY clients (each: connect, SOCKS5
#                handshake, one 64-byte round trip, close)
#   CPU          user+system ticks of each ztunnel process (/proc/PID/stat) around each run, per request, per
#                connection and per GB (JIT, GC and timers included); context switches per request
# and once per pair, at the end:
#   memory       each ztunnel after a full GC: RSS, NMT committed, live heap; idle, then with HOLD_CONNS idle
#                connections open through the mesh (each proven by a 16-byte round trip); bytes per connection
# Everything is on 127.96.0.0/16; every wait and loop is bounded; on exit it stops only the processes it
# started, by PID (bench/lib/processes.sh). Results and logs go to bench/target/results/ztunnel-<time>/.
#
# Settings (environment): ROUNDS=3 PHASES="bulk iperf latency fortio conn memory" TPUT_SECONDS=10 RATE=1000
#   LAT_SECONDS=15 WARMUP_SECONDS=8 JIT_SETTLE_SECONDS=60 JIT_SETTLE_TICKS=2 CONNECTIONS=4 SIZE=64 BODY=64 CONN_SECONDS=5 CONN_CONCURRENCY=4
#   HOLD_CONNS=10000 (0: no memory phase) VARIANTS="mesh" ZT_JAVA_OPTS="" OPTS_<variant>="..."
#   ZT_ENV="" ENV_<variant>="NAME=value ..." ZT_PREFIX="" PREFIX_<variant>="chrt -b 0" (a command that execs the JVM)
#   NMT=summary|off MEM_DETAIL=1 (threads, classes, metaspace, code cache, largest mappings per snapshot)
#   HOLD_PAUSE=seconds (wait while the connections are held, for jcmd by hand) PROFILE=none|perf|perfstat|jfr PROFILE_RUN=http|echo|conn SKIP_BUILD=1 IPERF_VIA=auto|proxychains|forward
#   LAT_KINDS="http echo" (the latency runs to make); SLOW_US=500 (each latency run also writes the requests slower
#   than that, with when they were due, to slow-<setup>-<kind>-<round>.txt: to line the tail up against GC logs,
#   e.g. OPTS_x="... -Xlog:gc,safepoint:file=/tmp/gc-%p.log:time,uptime"); HOGS=N (N CPU-bound busy loops, nice 0,
#   run during the latency runs only: how the proxies' latency holds up next to a CPU-bound neighbour, as on a busy node)
set -euo pipefail

cd "$(dirname "$0")/.."
source bench/lib/processes.sh
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
JCMD="$JAVA_HOME/bin/jcmd"
JAR=bench/target/ambit-bench.jar
CLI_JAR=cli/target/ambit-cli.jar
ROUNDS="${ROUNDS:-3}"
PHASES=" ${PHASES:-bulk iperf latency fortio conn memory} "
TPUT_SECONDS="${TPUT_SECONDS:-10}"
RATE="${RATE:-1000}"
LAT_SECONDS="${LAT_SECONDS:-15}"
WARMUP_SECONDS="${WARMUP_SECONDS:-8}"
JIT_SETTLE_SECONDS="${JIT_SETTLE_SECONDS:-60}"
JIT_SETTLE_TICKS="${JIT_SETTLE_TICKS:-2}"
CONNECTIONS="${CONNECTIONS:-4}"
SIZE="${SIZE:-64}"
BODY="${BODY:-64}"
CONN_SECONDS="${CONN_SECONDS:-5}"
CONN_CONCURRENCY="${CONN_CONCURRENCY:-4}"
HOLD_CONNS="${HOLD_CONNS:-10000}"
NMT="${NMT:-summary}"
MEM_DETAIL="${MEM_DETAIL:-0}"
HOLD_PAUSE="${HOLD_PAUSE:-0}"
PROFILE="${PROFILE:-none}"
PROFILE_RUN="${PROFILE_RUN:-http}"
LAT_KINDS="${LAT_KINDS:-http echo}"
SLOW_US="${SLOW_US:-0}"
HOGS="${HOGS:-0}"
[[ "$HOGS" =~ ^[0-9]$ ]] || { echo "HOGS: \"$HOGS\" (expected 0 to 9 busy loops)" >&2; exit 2; }
for kind_ in $LAT_KINDS; do
    [[ "$kind_" == http || "$kind_" == echo ]] || { echo "LAT_KINDS: \"$kind_\" (expected http and/or echo)" >&2; exit 2; }
done
[[ "$SLOW_US" =~ ^[0-9]+$ ]] || { echo "SLOW_US: \"$SLOW_US\" (expected microseconds, 0 for none)" >&2; exit 2; }
IPERF_VIA="${IPERF_VIA:-auto}"
read -r -a VARIANT_SPECS <<< "${VARIANTS:-mesh}"
CLK_TCK="$(getconf CLK_TCK)"
FWD_IP=127.96.2.1 # the forwarders (fortio; iperf3 without proxychains4)

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    ./mvnw -B -q -pl bench,cli -am package -DskipTests -Dspotless.check.skip=true
fi
[[ -f "$JAR" ]] || { echo "no $JAR (build failed?)" >&2; exit 1; }

# --- the variants: name, jar, JVM options, addresses -------------------------------------------------------
# Variant i uses bench/ztunnel-mesh.yaml's addresses moved by 10 * i in the third octet: client workload
# 127.96.(3+10i).1 (SOCKS5 :15080), server workload 127.96.(4+10i).1 (HBONE :15008, targets), service VIP
# 127.96.(10+10i).1; the ztunnel processes' own addresses (metrics, readiness) 127.96.0.(1+2i) and (2+2i).
((${#VARIANT_SPECS[@]} >= 1 && ${#VARIANT_SPECS[@]} <= 6)) || { echo "VARIANTS: 1 to 6 names" >&2; exit 2; }
NAMES=()
declare -A V_JAR V_OPTS V_ENV V_PREFIX V_CLIENT V_SERVER V_VIP V_SOCKS V_ZA V_ZB V_TARGETS V_IPERF V_LAUNCH V_IDLE_A V_IDLE_B
for i in "${!VARIANT_SPECS[@]}"; do
    spec=${VARIANT_SPECS[$i]}
    name=${spec%%:*}
    [[ "$name" =~ ^[A-Za-z][A-Za-z0-9_]*$ && "$name" != direct ]] ||
        { echo "VARIANTS: \"$name\" (expected a name of letters, digits, _; not \"direct\")" >&2; exit 2; }
    NAMES+=("$name")
    V_JAR[$name]=$([[ "$spec" == *:* ]] && echo "${spec#*:}" || echo "$CLI_JAR")
    [[ -f "${V_JAR[$name]}" ]] || { echo "variant $name: no jar ${V_JAR[$name]}" >&2; exit 2; }
    opts_var="OPTS_$name"
    V_OPTS[$name]="${!opts_var-${ZT_JAVA_OPTS:-}}"
    env_var="ENV_$name"
    V_ENV[$name]="${!env_var-${ZT_ENV:-}}"
    prefix_var="PREFIX_$name"
    V_PREFIX[$name]="${!prefix_var-${ZT_PREFIX:-}}"
    if [[ -n "${V_PREFIX[$name]}" ]]; then
        read -r -a words_ <<< "${V_PREFIX[$name]}"
        command -v "${words_[0]}" > /dev/null ||
            { echo "PREFIX_$name: \"${words_[0]}\" is not a command here (expected e.g. \"chrt -b 0\")" >&2; exit 2; }
    fi
    for kv_ in ${V_ENV[$name]}; do
        [[ "$kv_" =~ ^[A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*$ ]] ||
            { echo "ENV_$name: \"$kv_\" (expected NAME=value words)" >&2; exit 2; }
    done
    V_CLIENT[$name]=127.96.$((3 + 10 * i)).1
    V_SERVER[$name]=127.96.$((4 + 10 * i)).1
    V_VIP[$name]=127.96.$((10 + 10 * i)).1
    V_SOCKS[$name]=${V_CLIENT[$name]}:15080
done
FIRST=${NAMES[0]}
SERVER_IP=${V_SERVER[$FIRST]} # the direct path goes to the first variant's targets

for name in "${NAMES[@]}"; do
    for addr in "${V_SOCKS[$name]}" "${V_SERVER[$name]}:15008" "${V_SERVER[$name]}:9001" "${V_SERVER[$name]}:9002" \
        "${V_SERVER[$name]}:9003" "${V_SERVER[$name]}:5201"; do
        if is_listening "$addr"; then
            echo "something already listens on $addr (another benchmark?); stop it first" >&2
            exit 2
        fi
    done
done

OUT="bench/target/results/ztunnel-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
echo "results and logs: $OUT"
RESULTS="$OUT/results.tsv"
source bench/lib/results.sh

# 10,000 connections: each ztunnel holds a socket per connection, and so do the generator and the targets;
# raise the descriptor limit for everything started from here.
want_fds=$((HOLD_CONNS * 2 + 4096))
if (($(ulimit -n) < want_fds)); then
    ulimit -Hn "$want_fds" 2> /dev/null || true
    ulimit -n "$want_fds" 2> /dev/null || ulimit -n "$(ulimit -Hn)"
fi
echo "   file descriptors per process: $(ulimit -n)"

LOAD=("$JAVA" -Xmx512m -cp "$JAR" io.ambit.bench.ztunnel.SocksLoad)
has_phase() { [[ "$PHASES" == *" $1 "* ]]; }
# the address of a target for a setup (direct or a variant) and a kind (echo, sink, http, iperf)
target() {
    local setup=$1 kind=$2 port
    case $kind in echo) port=9001 ;; sink) port=9002 ;; http) port=9003 ;; iperf) port=5201 ;; esac
    if [[ "$setup" == direct ]]; then
        echo "$SERVER_IP:$port"
    else
        [[ "$kind" == http ]] && port=80 # the service maps 80 to 9003
        echo "${V_VIP[$setup]}:$port"
    fi
}
via() { [[ "$1" != direct ]] && echo "--socks ${V_SOCKS[$1]}" || true; }  # setup: the generator's proxy option
http_host() { [[ "$1" == direct ]] && echo "$SERVER_IP" || echo "${V_VIP[$1]}"; } # setup: the Host header

# --- start: targets, iperf3 servers and a ztunnel pair per variant ----------------------------------------
start_ztunnel() { # var variant node index: one node of a variant's mesh in its own JVM
    local var=$1 name=$2 node=$3 idx=$4 opts=${V_OPTS[$2]} log="$OUT/ztunnel-$2-$3.log" envs prefix
    read -r -a envs <<< "${V_ENV[$2]}"
    read -r -a prefix <<< "${V_PREFIX[$2]}" # a command that execs the JVM (the PID stays the JVM's)
    local own=127.96.0.$((idx + 1)) ports=15008,15080,15020,15021,0,15006
    [[ "$NMT" != off ]] && opts+=" -XX:NativeMemoryTracking=$NMT"
    [[ "$PROFILE" == perf ]] && opts+=" -XX:+PreserveFramePointer"
    [[ "$PROFILE" == jfr ]] &&
        opts+=" -XX:StartFlightRecording=settings=profile,filename=$OUT/ztunnel-$name-$node.jfr,dumponexit=true"
    # shellcheck disable=SC2086
    if [[ "${V_LAUNCH[$name]}" == cli ]]; then
        start "$var" "$log" env "${envs[@]}" "${prefix[@]}" "$JAVA" --enable-native-access=ALL-UNNAMED \
            --sun-misc-unsafe-memory-access=allow $opts -jar "${V_JAR[$name]}" ztunnel --mesh-file "$OUT/mesh-$name.yaml" --node "$node" --ca-dir "$OUT/ca" \
            --instance-ip "$own" --ports "$ports"
    else
        start "$var" "$log" env "${envs[@]}" "${prefix[@]}" "$JAVA" --enable-native-access=ALL-UNNAMED \
            --sun-misc-unsafe-memory-access=allow $opts -cp "$JAR" io.ambit.bench.ztunnel.ZtunnelNode --mesh-file "$OUT/mesh-$name.yaml" --node "$node" \
            --ca-dir "$OUT/ca" --ports "$ports"
    fi
}

for i in "${!NAMES[@]}"; do
    name=${NAMES[$i]}
    sed -e "s/127\.96\.3\./127.96.$((3 + 10 * i))./g" -e "s/127\.96\.4\./127.96.$((4 + 10 * i))./g" \
        -e "s/127\.96\.10\./127.96.$((10 + 10 * i))./g" bench/ztunnel-mesh.yaml > "$OUT/mesh-$name.yaml"
    start pid "$OUT/targets-$name.log" "${LOAD[@]}" serve --bind "${V_SERVER[$name]}" --echo-port 9001 \
        --sink-port 9002 --http-port 9003 --body "$BODY" --max-seconds 14400
    V_TARGETS[$name]=$pid
    if command -v iperf3 > /dev/null && has_phase iperf; then
        start pid "$OUT/iperf3-server-$name.log" iperf3 -s -B "${V_SERVER[$name]}" -p 5201
        V_IPERF[$name]=$pid
    fi
    V_LAUNCH[$name]=bench
    "$JAVA" -jar "${V_JAR[$name]}" ztunnel --help > /dev/null 2>&1 && V_LAUNCH[$name]=cli
    # A first: it creates the CA directory that the others then read
    start_ztunnel pid "$name" bench-a $((2 * i))
    V_ZA[$name]=$pid
    wait_listen "${V_SOCKS[$name]}" "$pid" 120
    start_ztunnel pid "$name" bench-b $((2 * i + 1))
    V_ZB[$name]=$pid
    wait_listen "${V_SERVER[$name]}:15008" "$pid" 120
    wait_line "$OUT/targets-$name.log" '^ready' "${V_TARGETS[$name]}"
    [[ -n "${V_IPERF[$name]:-}" ]] && wait_listen "${V_SERVER[$name]}:5201" "${V_IPERF[$name]}"
    echo "== $name: ztunnels A PID ${V_ZA[$name]} (SOCKS5 ${V_SOCKS[$name]}), B PID ${V_ZB[$name]}" \
        "(HBONE ${V_SERVER[$name]}:15008) from ${V_JAR[$name]} (${V_LAUNCH[$name]}); JVM options: ${V_OPTS[$name]:-none}${V_ENV[$name]:+; environment: ${V_ENV[$name]}}${V_PREFIX[$name]:+; started by: ${V_PREFIX[$name]}}"
    if command -v curl > /dev/null; then
        echo "   curl through the VIP: $(curl -sS -m 10 -o /dev/null -w '%{http_code}, %{size_download} bytes' \
            --socks5 "${V_SOCKS[$name]}" "http://${V_VIP[$name]}/")"
    fi
done

# Warm-up through each pair until the JIT has compiled the data path (C2 compiles after about 10,000 calls;
# on a busy 2-core machine a short warm-up leaves the compiler threads running into the measurements): HTTP
# and echo requests at 4 x RATE, new connections and one bulk stream, about 3 x WARMUP_SECONDS per pair.
for name in "${NAMES[@]}"; do
    timeout 120 "${LOAD[@]}" rr --target "$(target "$name" http)" $(via "$name") --http "$(http_host "$name")" \
        --rate $((RATE * 4)) --seconds "$WARMUP_SECONDS" --connections "$CONNECTIONS" > /dev/null
    timeout 120 "${LOAD[@]}" rr --target "$(target "$name" echo)" $(via "$name") --rate $((RATE * 4)) \
        --seconds "$WARMUP_SECONDS" --connections "$CONNECTIONS" > /dev/null
    timeout 60 "${LOAD[@]}" conn --target "$(target "$name" echo)" $(via "$name") --seconds "$WARMUP_SECONDS" > /dev/null
    timeout 60 "${LOAD[@]}" bulk --target "$(target "$name" sink)" $(via "$name") --seconds 2 > /dev/null
done
# Then until the JIT has settled: HTTP and echo at RATE through each pair in 4 s slices until a slice costs the
# pair's compiler threads (C1 + C2) at most JIT_SETTLE_TICKS clock ticks, at most JIT_SETTLE_SECONDS. Without this
# the first measured round carried C2 at 7-19 % of a ztunnel's samples (a node proxy runs for days: steady state
# is what the targets are about).
jit_ticks() { # pid: clock ticks of its JIT compiler threads
    echo $(($(thread_ticks "$1" "C2 Compiler") + $(thread_ticks "$1" "C1 Compiler")))
}
for name in "${NAMES[@]}"; do
    settled=""
    for ((k = 0; k < JIT_SETTLE_SECONDS / 4; k++)); do
        j0=$(($(jit_ticks "${V_ZA[$name]}") + $(jit_ticks "${V_ZB[$name]}")))
        timeout 60 "${LOAD[@]}" rr --target "$(target "$name" http)" $(via "$name") --http "$(http_host "$name")" \
            --rate "$RATE" --seconds 2 --connections "$CONNECTIONS" > /dev/null
        timeout 60 "${LOAD[@]}" rr --target "$(target "$name" echo)" $(via "$name") --rate "$RATE" --seconds 2 \
            --connections "$CONNECTIONS" > /dev/null
        j=$(($(jit_ticks "${V_ZA[$name]}") + $(jit_ticks "${V_ZB[$name]}") - j0))
        if ((j <= JIT_SETTLE_TICKS)); then
            settled=1
            break
        fi
    done
    echo "   $name JIT $([[ -n "$settled" ]] && echo settled || echo "NOT settled") after $((4 * k + 4)) s more" \
        "(compiler ticks in the last 4 s: $j)"
done
# Each ztunnel's idle CPU rate, for the record (timers, the mesh-file watcher).
sleep 3
declare -A I0
for name in "${NAMES[@]}"; do I0[$name]="$(cpu_ticks "${V_ZA[$name]}") $(cpu_ticks "${V_ZB[$name]}")"; done
sleep 5
for name in "${NAMES[@]}"; do
    read -r a0 b0 <<< "${I0[$name]}"
    V_IDLE_A[$name]=$(awk -v t=$(($(cpu_ticks "${V_ZA[$name]}") - a0)) 'BEGIN { printf "%.3f", t / 5 }')
    V_IDLE_B[$name]=$(awk -v t=$(($(cpu_ticks "${V_ZB[$name]}") - b0)) 'BEGIN { printf "%.3f", t / 5 }')
    echo "   $name idle CPU: A $(awk -v t="${V_IDLE_A[$name]}" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz * 1000 }') ms/s," \
        "B $(awk -v t="${V_IDLE_B[$name]}" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz * 1000 }') ms/s"
done

# Each ztunnel's idle CPU with the load's connections open (CONNECTIONS client connections through the pair,
# each proven by one round trip, then no traffic): what a node proxy spends per second on its open tunnels
# (HTTP/2 PINGs, timers, metrics), which 1,000 req/s charges to every request.
for name in "${NAMES[@]}"; do
    start idle_hold_pid "$OUT/idle-hold-$name.log" "${LOAD[@]}" hold --target "$(target "$name" echo)" $(via "$name") \
        --count "$CONNECTIONS" --hold-seconds 60
    if wait_line "$OUT/idle-hold-$name.log" '^hold opened=[0-9]* errors=[0-9]*$' "$idle_hold_pid" 30; then
        sleep 2
        read -r a0 b0 <<< "$(cpu_ticks "${V_ZA[$name]}") $(cpu_ticks "${V_ZB[$name]}")"
        sleep 10
        read -r a1 b1 <<< "$(cpu_ticks "${V_ZA[$name]}") $(cpu_ticks "${V_ZB[$name]}")"
        echo "   $name idle CPU with $CONNECTIONS connections open: A $(awk -v t=$((a1 - a0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz * 100 }') ms/s," \
            "B $(awk -v t=$((b1 - b0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz * 100 }') ms/s (10 s)"
    fi
    stop "$idle_hold_pid"
done

# --- CPU and context switches of a pair around a run ------------------------------------------------------
declare -A T0
# thread_split pid: user+system clock ticks of the process's threads in four groups, "loops vm jit other": the
# event loops (ambit-ztunnel-*), the VM thread (where Serial GC's collections and safepoints run) with any GC
# worker threads, the JIT compilers, and everything else (timers, admin, metrics, the mesh-file watcher)
thread_split() {
    local f
    for f in /proc/"$1"/task/*/stat; do cat "$f" 2> /dev/null; echo; done | awk '
        NF { s = $0; c = substr(s, index(s, "(") + 1); c = substr(c, 1, index(c, ")") - 1)
             sub(/^.*\) /, "", s); split(s, f, " "); t = f[12] + f[13]
             if (index(c, "ambit-ztunnel-") == 1) l += t
             else if (c == "VM Thread" || c ~ /^GC Thread/ || c ~ /^G1 / || c ~ /Serial/) v += t
             else if (c ~ /Compiler/) j += t
             else o += t }
        END { printf "%d %d %d %d\n", l, v, j, o }'
}
# loop_sched pid: "run-queue wait (ns) and involuntary context switches" of the event-loop threads (ambit-ztunnel-*):
# how long woken loops waited for a CPU (/proc/PID/task/TID/schedstat, field 2) and how often they were preempted
loop_sched() {
    local t rq=0 inv=0 a b comm
    for t in /proc/"$1"/task/*; do
        comm=$(cat "$t/comm" 2> /dev/null) || continue
        [[ "$comm" == ambit-ztunnel-* ]] || continue
        read -r _ a _ < "$t/schedstat" 2> /dev/null || continue
        b=$(awk '$1 == "nonvoluntary_ctxt_switches:" { print $2 }' "$t/status" 2> /dev/null)
        rq=$((rq + a))
        inv=$((inv + ${b:-0}))
    done
    echo "$rq $inv"
}
cpu_begin() { # setup
    [[ "$1" == direct ]] && return 0
    T0[a]=$(cpu_ticks "${V_ZA[$1]}")
    T0[b]=$(cpu_ticks "${V_ZB[$1]}")
    T0[sa]=$(ctx_switches "${V_ZA[$1]}")
    T0[sb]=$(ctx_switches "${V_ZB[$1]}")
    T0[ka]=$(sys_ticks "${V_ZA[$1]}")
    T0[kb]=$(sys_ticks "${V_ZB[$1]}")
    T0[la]=$(thread_ticks "${V_ZA[$1]}" ambit-ztunnel-)
    T0[lb]=$(thread_ticks "${V_ZB[$1]}" ambit-ztunnel-)
    T0[qa]=$(loop_sched "${V_ZA[$1]}")
    T0[qb]=$(loop_sched "${V_ZB[$1]}")
    T0[ta]=$(thread_split "${V_ZA[$1]}")
    T0[tb]=$(thread_split "${V_ZB[$1]}")
}
cpu_end() { # setup metric round units: records CPU µs (or ms) per unit of each ztunnel
    # Raw: the idle rate (printed above, about 2 ms/s, 2 µs per request at 1,000/s) is not subtracted, since
    # a JIT still compiling during the idle window would make the correction worse than the error.
    local name=$1 metric=$2 round=$3 units=$4 a b sw
    [[ "$name" == direct ]] && return 0
    a=$(awk -v t=$(($(cpu_ticks "${V_ZA[$name]}") - T0[a])) -v hz="$CLK_TCK" -v n="$units" \
        'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    b=$(awk -v t=$(($(cpu_ticks "${V_ZB[$name]}") - T0[b])) -v hz="$CLK_TCK" -v n="$units" \
        'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    sw=$(awk -v a=$(($(ctx_switches "${V_ZA[$name]}") - T0[sa])) -v b=$(($(ctx_switches "${V_ZB[$name]}") - T0[sb])) \
        -v n="$units" 'BEGIN { printf "%.2f %.2f", a / n, b / n }')
    record "$name/A" "$metric" "$round" "$a"
    record "$name/B" "$metric" "$round" "$b"
    record "$name/both" "$metric" "$round" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a + b }')"
    record "$name/A" "loop_$metric" "$round" "$(awk -v t=$(($(thread_ticks "${V_ZA[$name]}" ambit-ztunnel-) - T0[la])) \
        -v hz="$CLK_TCK" -v n="$units" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
    record "$name/B" "loop_$metric" "$round" "$(awk -v t=$(($(thread_ticks "${V_ZB[$name]}" ambit-ztunnel-) - T0[lb])) \
        -v hz="$CLK_TCK" -v n="$units" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
    record "$name/A" "sys_$metric" "$round" "$(awk -v t=$(($(sys_ticks "${V_ZA[$name]}") - T0[ka])) \
        -v hz="$CLK_TCK" -v n="$units" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
    record "$name/B" "sys_$metric" "$round" "$(awk -v t=$(($(sys_ticks "${V_ZB[$name]}") - T0[kb])) \
        -v hz="$CLK_TCK" -v n="$units" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
    local side q0 q1
    for side in A B; do
        if [[ $side == A ]]; then q0=${T0[qa]} q1=$(loop_sched "${V_ZA[$name]}"); else q0=${T0[qb]} q1=$(loop_sched "${V_ZB[$name]}"); fi
        record "$name/$side" "runq_$metric" "$round" "$(awk -v a="${q0% *}" -v b="${q1% *}" -v n="$units" 'BEGIN { printf "%.2f", (b - a) / 1000 / n }')"
        record "$name/$side" "preempt_$metric" "$round" "$(awk -v a="${q0#* }" -v b="${q1#* }" -v n="$units" 'BEGIN { printf "%.3f", (b - a) / n }')"
    done
    local t0 t1 g i
    for side in A B; do
        if [[ $side == A ]]; then t0=${T0[ta]} t1=$(thread_split "${V_ZA[$name]}"); else t0=${T0[tb]} t1=$(thread_split "${V_ZB[$name]}"); fi
        read -r -a t0 <<< "$t0"
        read -r -a t1 <<< "$t1"
        i=0
        for g in tloops tvm tjit tother; do
            record "$name/$side" "${g}_$metric" "$round" "$(awk -v t=$((t1[i] - t0[i])) -v hz="$CLK_TCK" -v n="$units" \
                'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
            i=$((i + 1))
        done
    done
    record "$name/A" "ctxsw_$metric" "$round" "${sw% *}"
    record "$name/B" "ctxsw_$metric" "$round" "${sw#* }"
    echo "A $a B $b (context switches A ${sw% *} B ${sw#* })"
}

# --- measurements ----------------------------------------------------------------------------------------
bulk() { # setup round
    local setup=$1 round=$2 line cpu=""
    timeout 60 "${LOAD[@]}" bulk --target "$(target "$setup" sink)" $(via "$setup") --seconds 2 > /dev/null
    cpu_begin "$setup"
    line=$(timeout $((TPUT_SECONDS + 60)) "${LOAD[@]}" bulk --target "$(target "$setup" sink)" $(via "$setup") \
        --seconds "$TPUT_SECONDS")
    cpu=$(cpu_end "$setup" cpu_ms_per_gb "$round" "$(awk -v b="$(kv "$line" bytes)" 'BEGIN { print b / 1e9 * 1000 }')")
    echo "$setup $round $line" >> "$OUT/bulk.log"
    record "$setup" bulk_gbps "$round" "$(kv "$line" gbit_per_second)"
    printf '  %-8s bulk       %7.2f Gbit/s%s\n' "$setup" "$(kv "$line" gbit_per_second)" "${cpu:+  CPU ms per GB: $cpu}"
}

declare -A IPERF_CMD
iperf_setup() {
    local via=$IPERF_VIA name p f
    [[ "$via" == auto ]] && { command -v proxychains4 > /dev/null && via=proxychains || via=forward; }
    IPERF_CMD[direct]="iperf3 -c $SERVER_IP -p 5201"
    for name in "${NAMES[@]}"; do
        if [[ "$via" == proxychains ]]; then
            printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\nsocks5 %s %s\n' \
                "${V_CLIENT[$name]}" 15080 > "$OUT/proxychains-$name.conf"
            IPERF_CMD[$name]="proxychains4 -q -f $OUT/proxychains-$name.conf iperf3 -c ${V_VIP[$name]} -p 5201"
        else
            free_port p
            start f "$OUT/forward-iperf-$name.log" "${LOAD[@]}" forward --listen "$FWD_IP:$p" \
                --target "$(target "$name" iperf)" $(via "$name")
            wait_line "$OUT/forward-iperf-$name.log" '^ready' "$f"
            IPERF_CMD[$name]="iperf3 -c $FWD_IP -p $p"
        fi
    done
    if [[ "$via" == forward ]]; then # the same extra hop on the direct path
        free_port p
        start f "$OUT/forward-iperf-direct.log" "${LOAD[@]}" forward --listen "$FWD_IP:$p" --target "$SERVER_IP:5201"
        wait_line "$OUT/forward-iperf-direct.log" '^ready' "$f"
        IPERF_CMD[direct]="iperf3 -c $FWD_IP -p $p"
    fi
    echo "   iperf3 through SOCKS5 by $via"
}

iperf() { # setup round streams
    local setup=$1 round=$2 streams=$3 log gbps cpu=""
    log="$OUT/iperf3-$setup-P$streams-$round.txt"
    # the iperf3 server reopens its listener after each test
    local server=$([[ "$setup" == direct ]] && echo "$SERVER_IP" || echo "${V_SERVER[$setup]}")
    local spid=$([[ "$setup" == direct ]] && echo "${V_IPERF[$FIRST]}" || echo "${V_IPERF[$setup]}")
    wait_listen "$server:5201" "$spid" 30
    sleep 0.5
    cpu_begin "$setup"
    # shellcheck disable=SC2086
    timeout $((TPUT_SECONDS + 30)) ${IPERF_CMD[$setup]} -t "$TPUT_SECONDS" -P "$streams" -f g > "$log" 2>&1 || true
    # the receiver's total: the last "receiver" line (the SUM line with -P > 1)
    gbps=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") v = $(i - 1) } END { print v }' "$log")
    if [[ -z "$gbps" ]]; then
        echo "  $setup iperf3 -P $streams failed: $(tail -2 "$log" | tr '\n' ' ')"
        return 0
    fi
    cpu=$(cpu_end "$setup" "cpu_ms_per_gb_iperf_p$streams" "$round" \
        "$(awk -v g="$gbps" -v s="$TPUT_SECONDS" 'BEGIN { print g / 8 * s * 1000 }')")
    record "$setup" "iperf_p${streams}_gbps" "$round" "$gbps"
    printf '  %-8s iperf3 -P %d %6.2f Gbit/s%s\n' "$setup" "$streams" "$gbps" "${cpu:+  CPU ms per GB: $cpu}"
}

latency() { # setup round kind(http|echo)
    local setup=$1 round=$2 kind=$3 line cpu="" m opts=() profiling=""
    [[ "$kind" == http ]] && opts=(--http "$(http_host "$setup")")
    local slow=()
    ((SLOW_US > 0)) && slow=(--slow-us "$SLOW_US" --slow-log "$OUT/slow-$setup-$kind-$round.txt")
    # 3 s at the rate first: new connections, warm caches
    timeout 60 "${LOAD[@]}" rr --target "$(target "$setup" "$kind")" $(via "$setup") \
        --rate "$RATE" --seconds 3 --connections "$CONNECTIONS" --size "$SIZE" "${opts[@]}" > /dev/null
    [[ "$setup" != direct && ("$PROFILE" == perf || "$PROFILE" == perfstat) && "$round" == 1 && "$kind" == "$PROFILE_RUN" ]] && profiling=1
    cpu_begin "$setup"
    [[ -n "$profiling" ]] && profile_start "$setup"
    line=$(timeout $((LAT_SECONDS + 60)) "${LOAD[@]}" rr --target "$(target "$setup" "$kind")" $(via "$setup") \
        --rate "$RATE" --seconds "$LAT_SECONDS" --connections "$CONNECTIONS" --size "$SIZE" "${opts[@]}" "${slow[@]}")
    cpu=$(cpu_end "$setup" "cpu_us_per_req_$kind" "$round" "$(kv "$line" requests)")
    [[ -n "$profiling" ]] && profile_stop "$setup" "$(kv "$line" requests)"
    echo "$setup $round $line" >> "$OUT/rr.log"
    for m in p50_us p90_us p99_us p999_us errors; do
        record "$setup" "${kind}_$m" "$round" "$(kv "$line" "$m")"
    done
    printf '  %-8s %-4s rr    p50 %7.1f  p90 %7.1f  p99 %7.1f  p99.9 %7.1f us  (%s requests, %s errors)%s\n' \
        "$setup" "$kind" "$(kv "$line" p50_us)" "$(kv "$line" p90_us)" "$(kv "$line" p99_us)" "$(kv "$line" p999_us)" \
        "$(kv "$line" requests)" "$(kv "$line" errors)" "${cpu:+  CPU us/req: $cpu}"
}

declare -A FORTIO_URL
fortio_setup() {
    local p f name
    for name in direct "${NAMES[@]}"; do
        free_port p
        start f "$OUT/forward-http-$name.log" "${LOAD[@]}" forward --listen "$FWD_IP:$p" \
            --target "$(target "$name" http)" $(via "$name")
        wait_line "$OUT/forward-http-$name.log" '^ready' "$f"
        FORTIO_URL[$name]="http://$FWD_IP:$p/"
    done
}

fortio_run() { # setup round
    local setup=$1 round=$2 log p
    log="$OUT/fortio-$setup-$round.txt"
    cpu_begin "$setup"
    timeout $((LAT_SECONDS + 60)) fortio load -qps "$RATE" -c "$CONNECTIONS" -t "${LAT_SECONDS}s" -uniform \
        "${FORTIO_URL[$setup]}" > "$log" 2>&1 || true
    cpu_end "$setup" cpu_us_per_req_fortio "$round" $((RATE * LAT_SECONDS)) > /dev/null
    for p in 50 90 99; do
        record "$setup" "fortio_p${p}_us" "$round" \
            "$(awk -v p="$p%" '$1 == "#" && $2 == "target" && $3 == p { printf "%.1f", $4 * 1e6 }' "$log")"
    done
    printf '  %-8s fortio      p50 %7s  p90 %7s  p99 %7s us\n' "$setup" "$(median "$setup" fortio_p50_us)" \
        "$(median "$setup" fortio_p90_us)" "$(median "$setup" fortio_p99_us)"
}

connrate() { # setup round
    local setup=$1 round=$2 line cpu="" profiling=""
    timeout 60 "${LOAD[@]}" conn --target "$(target "$setup" echo)" $(via "$setup") --seconds 2 \
        --concurrency "$CONN_CONCURRENCY" > /dev/null
    sleep 2 # let TIME_WAIT of the warm-up age a little
    [[ "$setup" != direct && ("$PROFILE" == perf || "$PROFILE" == perfstat) && "$round" == 1 && "$PROFILE_RUN" == conn ]] && profiling=1
    cpu_begin "$setup"
    [[ -n "$profiling" ]] && profile_start "$setup" "$CONN_SECONDS"
    line=$(timeout $((CONN_SECONDS + 60)) "${LOAD[@]}" conn --target "$(target "$setup" echo)" $(via "$setup") \
        --seconds "$CONN_SECONDS" --concurrency "$CONN_CONCURRENCY" 2> "$OUT/conn-$setup-$round.err")
    cpu=$(cpu_end "$setup" cpu_us_per_conn "$round" "$(kv "$line" connections)")
    [[ -n "$profiling" ]] && profile_stop "$setup" "$(kv "$line" connections)"
    echo "$setup $round $line" >> "$OUT/conn.log"
    record "$setup" conn_per_s "$round" "$(kv "$line" per_second)"
    record "$setup" conn_errors "$round" "$(kv "$line" errors)"
    printf '  %-8s new conns  %7.0f /s  (%s errors)%s\n' "$setup" "$(kv "$line" per_second)" "$(kv "$line" errors)" \
        "${cpu:+  CPU us/conn: $cpu}"
}

# --- profiles ----------------------------------------------------------------------------------------------
# PROFILE=perfstat: kernel events of each ztunnel during the run, per request (or connection): system calls by
# name, context switches, wake-ups it causes (sched_wakeup fires in the waker), CPU migrations.
PERFSTAT_EVENTS=raw_syscalls:sys_enter,context-switches,cpu-migrations,sched:sched_wakeup
for sc in read write readv writev sendmsg recvmsg sendto recvfrom epoll_wait epoll_pwait epoll_pwait2 epoll_ctl \
    io_uring_enter futex timerfd_settime clock_nanosleep sched_yield mprotect madvise; do
    PERFSTAT_EVENTS+=",syscalls:sys_enter_$sc"
done
profile_start() { # variant [seconds]
    if [[ "$PROFILE" == perfstat ]]; then
        start perf_pid "$OUT/perfstat-$1-A.txt" perf stat -x , -e "$PERFSTAT_EVENTS" -p "${V_ZA[$1]}" \
            -- sleep "${2:-$LAT_SECONDS}"
        start perf_pid_b "$OUT/perfstat-$1-B.txt" perf stat -x , -e "$PERFSTAT_EVENTS" -p "${V_ZB[$1]}" \
            -- sleep "${2:-$LAT_SECONDS}"
        return 0
    fi
    start perf_pid "$OUT/perf-record-$1.log" perf record -F 499 -g -p "${V_ZA[$1]},${V_ZB[$1]}" \
        -o "$OUT/perf-$1.data" -- sleep "${2:-$LAT_SECONDS}"
}
profile_stop() { # variant units
    local name=$1 units=${2:-1} pid side
    stop_wait "$perf_pid"
    if [[ "$PROFILE" == perfstat ]]; then
        stop_wait "$perf_pid_b"
        for side in A B; do
            # perf stat -x, lines: value,unit,event,...; "<not counted>" and zero counts are left out
            awk -F, -v n="$units" -v s="$name/$side" '$1 ~ /^[0-9.]+$/ && $1 > 0 {
                ev = $3; sub(/^syscalls:sys_enter_/, "", ev); printf "  %-10s %-28s %8.2f per unit  (%d)\n", s, ev, $1 / n, $1 }' \
                "$OUT/perfstat-$name-$side.txt" | tee -a "$OUT/perfstat-summary.txt"
        done
        return 0
    fi
    for pid in "${V_ZA[$name]}" "${V_ZB[$name]}"; do
        "$JCMD" "$pid" Compiler.perfmap > /dev/null 2>&1 || true # /tmp/perf-PID.map, read by perf report
    done
    perf report -i "$OUT/perf-$name.data" --stdio --no-children --sort comm,dso,sym --percent-limit 0.3 \
        > "$OUT/perf-report-$name.txt" 2> /dev/null || true
    local side
    for side in A B; do
        pid=$([[ $side == A ]] && echo "${V_ZA[$name]}" || echo "${V_ZB[$name]}")
        perf script -i "$OUT/perf-$name.data" --pid "$pid" -F comm,tid,ip,sym > "$OUT/perf-script-$name-$side.txt" \
            2> /dev/null || true
        python3 bench/lib/perf-categories.py "$OUT/perf-script-$name-$side.txt" > "$OUT/perf-categories-$name-$side.txt" \
            2>&1 || true
    done
    rm -f "/tmp/perf-${V_ZA[$name]}.map" "/tmp/perf-${V_ZB[$name]}.map"
    echo "   perf profile of $name during its $PROFILE_RUN run: $OUT/perf-categories-$name-{A,B}.txt, $OUT/perf-report-$name.txt"
}

# --- memory ------------------------------------------------------------------------------------------------
# mem_snapshot pid setup label: after a full GC, RSS, NMT committed and live heap (class histogram total), KiB
mem_snapshot() {
    local pid=$1 setup=$2 label=$3 nmt heap rss file=${2//\//-}-$3
    # as it runs (what a DaemonSet's memory limit sees), then after the full GC of the class histogram
    record "$setup" "rssrun_${label}_kb" 1 "$(rss_kb "$pid")"
    "$JCMD" "$pid" GC.class_histogram > "$OUT/histogram-$file.txt" 2>&1 || true # a full GC first
    sleep 1
    rss=$(rss_kb "$pid")
    # anonymous (heap, malloc, stacks) vs file-backed (libjvm, the CDS archive) resident memory
    grep -E '^(VmRSS|RssAnon|RssFile|Threads):' "/proc/$pid/status" > "$OUT/status-$file.txt" 2> /dev/null || true
    "$JCMD" "$pid" GC.heap_info >> "$OUT/status-$file.txt" 2>&1 || true
    heap=$(awk '$1 == "Total" { printf "%d", $3 / 1024 }' "$OUT/histogram-$file.txt")
    nmt=-
    if [[ "$NMT" != off ]]; then
        "$JCMD" "$pid" VM.native_memory summary scale=KB > "$OUT/nmt-$file.txt" 2>&1 || true
        nmt=$(sed -n 's/^Total: reserved=[0-9]*KB, committed=\([0-9]*\)KB.*/\1/p' "$OUT/nmt-$file.txt" | head -1)
    fi
    if [[ "$MEM_DETAIL" == 1 ]]; then # where the memory is: threads, classes, metaspace, JIT code, mappings
        {
            echo "== loaded classes"
            "$JCMD" "$pid" PerfCounter.print 2>&1 | grep -E 'java\.cls\.(loaded|unloaded|shared)Classes|sun\.cls\.time'
            echo "== threads"
            "$JCMD" "$pid" Thread.print 2>&1 | sed -n 's/^"\([^"]*\)".*/\1/p' | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn
            echo "== metaspace"
            "$JCMD" "$pid" VM.metaspace 2>&1 | sed -n '1,/^Virtual space/p' | head -40
            echo "== code cache"
            "$JCMD" "$pid" Compiler.codecache 2>&1 | head -12
            echo "== loaded classes by package (top 40)"
            "$JCMD" "$pid" VM.class_hierarchy 2>&1 | sed -n 's/^[ |-]*\([A-Za-z_$][A-Za-z0-9_$.]*\)\.[A-Za-z0-9_$]*\/.*/\1/p' |
                awk -F. '{ p = $1; for (i = 2; i <= NF && i <= 3; i++) p = p "." $i; c[p]++ } END { for (k in c) print c[k], k }' |
                sort -rn | head -40
            echo "== smaps_rollup"
            cat "/proc/$pid/smaps_rollup" 2> /dev/null
        } > "$OUT/detail-$file.txt"
        # the largest resident mappings (anonymous ones are heap, metaspace, malloc arenas, stacks, direct buffers)
        awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : "[anon]") } /^Rss:/ { rss[name] += $2 }
            END { for (n in rss) printf "%8d KiB  %s\n", rss[n], n }' "/proc/$pid/smaps" 2> /dev/null |
            sort -rn | head -30 > "$OUT/smaps-$file.txt"
    fi
    record "$setup" "rss_${label}_kb" 1 "$rss"
    record "$setup" "nmt_${label}_kb" 1 "${nmt:--}"
    record "$setup" "heap_${label}_kb" 1 "${heap:--}"
    record "$setup" "fds_$label" 1 "$(fds "$pid")"
}

memory() { # variant
    local name=$1 hold_pid line opened side pid m
    for side in A B; do
        pid=$([[ $side == A ]] && echo "${V_ZA[$name]}" || echo "${V_ZB[$name]}")
        mem_snapshot "$pid" "$name/$side" idle
    done
    start hold_pid "$OUT/hold-$name.log" "${LOAD[@]}" hold --target "$(target "$name" echo)" $(via "$name") \
        --count "$HOLD_CONNS" --hold-seconds 900
    wait_line "$OUT/hold-$name.log" '^hold opened=[0-9]* errors=[0-9]*$' "$hold_pid" 900
    line=$(grep -m1 '^hold opened=' "$OUT/hold-$name.log")
    opened=$(kv "$line" opened)
    record "$name" held_conns 1 "$opened"
    sleep 2
    if ((HOLD_PAUSE > 0)); then
        # a window to look at the ztunnels by hand (jcmd, heap dumps) while the connections are held; removing
        # the file ends it early
        touch "$OUT/hold-pause"
        echo "   $name holds $opened connections: ztunnels A ${V_ZA[$name]}, B ${V_ZB[$name]}; up to ${HOLD_PAUSE} s" \
            "(rm $OUT/hold-pause to go on)"
        for ((k = 0; k < HOLD_PAUSE; k++)); do
            [[ -f "$OUT/hold-pause" ]] || break
            sleep 1
        done
    fi
    for side in A B; do
        pid=$([[ $side == A ]] && echo "${V_ZA[$name]}" || echo "${V_ZB[$name]}")
        mem_snapshot "$pid" "$name/$side" held
        for m in rss rssrun nmt heap; do
            record "$name/$side" "${m}_bytes_per_conn" 1 "$(awk -v a="$(median "$name/$side" "${m}_idle_kb")" \
                -v b="$(median "$name/$side" "${m}_held_kb")" -v n="$opened" \
                'BEGIN { if (a == "-" || b == "-" || n == 0) print "-"; else printf "%.0f", (b - a) * 1024 / n }')"
        done
        echo "  $name/$side memory: RSS idle $(($(median "$name/$side" rss_idle_kb) / 1024)) MiB, with $opened" \
            "connections $(($(median "$name/$side" rss_held_kb) / 1024)) MiB ($(median "$name/$side" rss_bytes_per_conn)" \
            "B/conn); NMT committed $(median "$name/$side" nmt_idle_kb) -> $(median "$name/$side" nmt_held_kb) KiB" \
            "($(median "$name/$side" nmt_bytes_per_conn) B/conn); live heap $(median "$name/$side" heap_idle_kb) ->" \
            "$(median "$name/$side" heap_held_kb) KiB ($(median "$name/$side" heap_bytes_per_conn) B/conn);" \
            "fds $(median "$name/$side" fds_held)"
    done
    stop "$hold_pid"
}

# --- floor: the same HTTP load through haproxy (C, one epoll thread per process), for what the kernel and a
# minimal proxy cost on this machine: "haproxy" is one plain TCP relay (like one ztunnel without TLS or HTTP/2);
# "haproxy_tls" is a pair joined by mutual TLS 1.3 (AES-128-GCM, one TLS connection per client connection, no
# HTTP/2), the closest native analogue of two ztunnels. CPU per request per haproxy process, as for a ztunnel.
declare -A H_PID H_ADDR
floor_setup() {
    local p1 p2 p3 pem="$OUT/haproxy.pem" h
    command -v haproxy > /dev/null || { echo "   floor: no haproxy installed, skipped"; PHASES=${PHASES/ floor / }; return 0; }
    command -v openssl > /dev/null || { echo "   floor: no openssl, skipped"; PHASES=${PHASES/ floor / }; return 0; }
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OUT/haproxy.key" \
        -out "$OUT/haproxy.crt" -days 2 -subj /CN=bench -addext subjectAltName=DNS:bench > /dev/null 2>&1
    cat "$OUT/haproxy.crt" "$OUT/haproxy.key" > "$pem"
    free_port p1
    free_port p2
    free_port p3
    local global="global\n  nbthread 1\n  maxconn 4096\n  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256\n  ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 300s\n  timeout server 300s\n"
    printf "${global}listen relay\n  bind $FWD_IP:$p1\n  server t $SERVER_IP:9003\n" > "$OUT/haproxy-plain.cfg"
    printf "${global}listen a\n  bind $FWD_IP:$p2\n  server b $FWD_IP:$p3 ssl sni str(bench) verify required ca-file $OUT/haproxy.crt crt $pem ssl-min-ver TLSv1.3\n" \
        > "$OUT/haproxy-tls-a.cfg"
    printf "${global}listen b\n  bind $FWD_IP:$p3 ssl crt $pem ca-file $OUT/haproxy.crt verify required ssl-min-ver TLSv1.3\n  server t $SERVER_IP:9003\n" \
        > "$OUT/haproxy-tls-b.cfg"
    for h in plain tls-a tls-b; do
        start pid "$OUT/haproxy-$h.log" haproxy -db -f "$OUT/haproxy-$h.cfg"
        H_PID[$h]=$pid
    done
    H_ADDR[haproxy]=$FWD_IP:$p1
    H_ADDR[haproxy_tls]=$FWD_IP:$p2
    wait_listen "$FWD_IP:$p1" "${H_PID[plain]}" 30
    wait_listen "$FWD_IP:$p2" "${H_PID[tls-a]}" 30
    wait_listen "$FWD_IP:$p3" "${H_PID[tls-b]}" 30
    echo "   floor: haproxy $(haproxy -v | head -1 | cut -d' ' -f3) plain on ${H_ADDR[haproxy]}, TLS pair ${H_ADDR[haproxy_tls]} -> $FWD_IP:$p3"
}

floor_run() { # setup(haproxy|haproxy_tls) round
    local setup=$1 round=$2 line a0 b0 a b n pa pb
    if [[ "$setup" == haproxy ]]; then pa=${H_PID[plain]}; pb=${H_PID[plain]}; else pa=${H_PID[tls-a]}; pb=${H_PID[tls-b]}; fi
    timeout 60 "${LOAD[@]}" rr --target "${H_ADDR[$setup]}" --http "$SERVER_IP" --rate "$RATE" --seconds 3 \
        --connections "$CONNECTIONS" > /dev/null
    a0=$(cpu_ticks "$pa")
    b0=$(cpu_ticks "$pb")
    line=$(timeout $((LAT_SECONDS + 60)) "${LOAD[@]}" rr --target "${H_ADDR[$setup]}" --http "$SERVER_IP" \
        --rate "$RATE" --seconds "$LAT_SECONDS" --connections "$CONNECTIONS")
    n=$(kv "$line" requests)
    a=$(awk -v t=$(($(cpu_ticks "$pa") - a0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    b=$(awk -v t=$(($(cpu_ticks "$pb") - b0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    record "$setup/A" cpu_us_per_req_http "$round" "$a"
    [[ "$setup" == haproxy_tls ]] && record "$setup/B" cpu_us_per_req_http "$round" "$b"
    for m in p50_us p90_us p99_us p999_us errors; do record "$setup" "http_$m" "$round" "$(kv "$line" "$m")"; done
    printf '  %-11s http rr p50 %7.1f  p90 %7.1f  p99 %7.1f us  (%s requests)  CPU us/req: %s\n' "$setup" \
        "$(kv "$line" p50_us)" "$(kv "$line" p90_us)" "$(kv "$line" p99_us)" "$n" \
        "$([[ "$setup" == haproxy ]] && echo "$a" || echo "A $a B $b")"
}

# --- the run: every round, each measurement direct and through each pair (the pairs' order turns) ----------
has_phase iperf && [[ -n "${V_IPERF[$FIRST]:-}" ]] && iperf_setup
if has_phase fortio && command -v fortio > /dev/null; then fortio_setup; else PHASES=${PHASES/ fortio / }; fi
has_phase floor && floor_setup
for ((round = 1; round <= ROUNDS; round++)); do
    echo "== round $round of $ROUNDS"
    n=${#NAMES[@]}
    SETUPS=(direct)
    for ((k = 0; k < n; k++)); do SETUPS+=("${NAMES[$(((k + round - 1) % n))]}"); done
    for setup in "${SETUPS[@]}"; do has_phase bulk && bulk "$setup" "$round"; done
    if has_phase iperf && [[ -n "${V_IPERF[$FIRST]:-}" ]]; then
        for setup in "${SETUPS[@]}"; do iperf "$setup" "$round" 1; done
        for setup in "${SETUPS[@]}"; do iperf "$setup" "$round" 4; done
    fi
    if has_phase latency; then
        # CPU-bound neighbours (HOGS): plain shell busy loops, each bounded by timeout, stopped by PID after the runs
        hog_pids=()
        for ((k = 0; k < HOGS; k++)); do
            start pid "$OUT/hog-$k.log" timeout 900 sh -c 'while :; do :; done'
            hog_pids+=("$pid")
        done
        for kind in $LAT_KINDS; do
            for setup in "${SETUPS[@]}"; do latency "$setup" "$round" "$kind"; done
        done
        ((${#hog_pids[@]} == 0)) || stop "${hog_pids[@]}"
    fi
    if has_phase fortio; then
        for setup in "${SETUPS[@]}"; do fortio_run "$setup" "$round"; done
    fi
    if has_phase floor; then
        for setup in haproxy haproxy_tls; do floor_run "$setup" "$round"; done
    fi
    for setup in "${SETUPS[@]}"; do has_phase conn && connrate "$setup" "$round"; done
done
if has_phase memory && ((HOLD_CONNS > 0)); then
    for name in "${NAMES[@]}"; do memory "$name"; done
fi

# --- summary ---------------------------------------------------------------------------------------------
ratio() { # metric variant: the median over rounds of variant/FIRST for a per-round CPU metric
    awk -F'\t' -v m="$2" -v a="$FIRST/both" -v b="$1/both" '
        $2 == m && $1 == a { base[$3] = $4 } $2 == m && $1 == b { v[$3] = $4 }
        END { for (r in v) if (base[r] > 0) print v[r] / base[r] }' "$RESULTS" | sort -g | awk '
        { x[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) printf "%.2f", x[(NR + 1) / 2]; else printf "%.2f", (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}
{
    echo
    echo "== summary: medians of $ROUNDS round(s); $(date -u +%FT%TZ); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    for name in "${NAMES[@]}"; do
        echo "   $name: ${V_JAR[$name]} (${V_LAUNCH[$name]}), JVM options: ${V_OPTS[$name]:-none}${V_ENV[$name]:+; environment: ${V_ENV[$name]}}${V_PREFIX[$name]:+; started by: ${V_PREFIX[$name]}}"
    done
    echo "   $RATE req/s x ${LAT_SECONDS}s over $CONNECTIONS connections (open loop): HTTP GET with a $BODY-byte body; $SIZE-byte echo"
    printf '%-9s %7s %7s %7s | %8s %8s %8s %8s | %8s %8s %8s | %8s\n' setup bulk iperf-1 iperf-4 \
        'http p50' p90 p99 p99.9 'echo p50' p90 p99 'conns/s'
    for s in direct "${NAMES[@]}"; do
        printf '%-9s %7s %7s %7s | %8s %8s %8s %8s | %8s %8s %8s | %8s\n' "$s" "$(median "$s" bulk_gbps)" \
            "$(median "$s" iperf_p1_gbps)" "$(median "$s" iperf_p4_gbps)" "$(median "$s" http_p50_us)" \
            "$(median "$s" http_p90_us)" "$(median "$s" http_p99_us)" "$(median "$s" http_p999_us)" \
            "$(median "$s" echo_p50_us)" "$(median "$s" echo_p90_us)" "$(median "$s" echo_p99_us)" \
            "$(median "$s" conn_per_s)"
    done
    echo "(throughput in Gbit/s, latency in us)"
    for name in "${NAMES[@]}"; do
        for k in http echo; do
            [[ "$(median "$name" ${k}_p99_us)" == - ]] && continue
            echo "$name: added $k latency (median $name - median direct): p50 $(awk -v m="$(median "$name" ${k}_p50_us)" -v d="$(median direct ${k}_p50_us)" 'BEGIN { printf "%.0f", m - d }') us," \
                "p90 $(awk -v m="$(median "$name" ${k}_p90_us)" -v d="$(median direct ${k}_p90_us)" 'BEGIN { printf "%.0f", m - d }') us," \
                "p99 $(awk -v m="$(median "$name" ${k}_p99_us)" -v d="$(median direct ${k}_p99_us)" 'BEGIN { printf "%.0f", m - d }') us" \
                "(p99 rounds: $name $(values "$name" ${k}_p99_us); direct $(values direct ${k}_p99_us))"
        done
    done
    echo "CPU per ztunnel (A = client side, B = server side), [rounds]; kernel = the system-time part; ctx = context"
    echo "switches per unit; loops = the event-loop threads alone (no JIT compiler, GC or timer threads); runq = the"
    echo "loops' wait for a CPU after being woken, us per unit; preempt = the loops' involuntary switches per unit:"
    for name in "${NAMES[@]}"; do
        for m in cpu_us_per_req_http cpu_us_per_req_echo cpu_us_per_req_fortio cpu_us_per_conn cpu_ms_per_gb \
            cpu_ms_per_gb_iperf_p1 cpu_ms_per_gb_iperf_p4; do
            [[ "$(median "$name/A" "$m")" == - ]] && continue
            printf '  %-9s %-24s A %8s [%s]  B %8s [%s]  both %8s  kernel A %s B %s  loops A %s B %s  ctx A %s B %s  runq A %s B %s  preempt A %s B %s%s\n' \
                "$name" "$m" \
                "$(median "$name/A" "$m")" "$(values "$name/A" "$m")" "$(median "$name/B" "$m")" "$(values "$name/B" "$m")" \
                "$(median "$name/both" "$m")" "$(median "$name/A" "sys_$m")" "$(median "$name/B" "sys_$m")" \
                "$(median "$name/A" "loop_$m")" "$(median "$name/B" "loop_$m")" \
                "$(median "$name/A" "ctxsw_$m")" "$(median "$name/B" "ctxsw_$m")" \
                "$(median "$name/A" "runq_$m")" "$(median "$name/B" "runq_$m")" \
                "$(median "$name/A" "preempt_$m")" "$(median "$name/B" "preempt_$m")" \
                "$([[ "$name" != "$FIRST" ]] && echo "  both/$FIRST: $(ratio "$name" "$m")")"
            printf '  %-9s %-24s by thread: A loops %s vm/gc %s jit %s other %s | B loops %s vm/gc %s jit %s other %s\n' \
                "$name" "$m" "$(median "$name/A" "tloops_$m")" "$(median "$name/A" "tvm_$m")" \
                "$(median "$name/A" "tjit_$m")" "$(median "$name/A" "tother_$m")" "$(median "$name/B" "tloops_$m")" \
                "$(median "$name/B" "tvm_$m")" "$(median "$name/B" "tjit_$m")" "$(median "$name/B" "tother_$m")"
        done
    done
    if [[ "$(median haproxy/A cpu_us_per_req_http)" != - ]]; then
        echo "floor (haproxy, C, epoll, HTTP at the same rate): plain relay $(median haproxy/A cpu_us_per_req_http) us/req" \
            "[$(values haproxy/A cpu_us_per_req_http)], p50 $(median haproxy http_p50_us) p99 $(median haproxy http_p99_us) us;" \
            "TLS pair A $(median haproxy_tls/A cpu_us_per_req_http) B $(median haproxy_tls/B cpu_us_per_req_http) us/req" \
            "[$(values haproxy_tls/A cpu_us_per_req_http) / $(values haproxy_tls/B cpu_us_per_req_http)]," \
            "p50 $(median haproxy_tls http_p50_us) p99 $(median haproxy_tls http_p99_us) us"
    fi
    for name in "${NAMES[@]}"; do
        [[ "$(median "$name" held_conns)" == - ]] && continue
        echo "$name memory after a full GC, idle -> with $(median "$name" held_conns) idle connections (KiB; bytes per connection):"
        for n in A B; do
            printf '  %s  RSS as running %s -> %s (%s B)  after GC %s -> %s (%s B)  NMT committed %s -> %s (%s B)  live heap %s -> %s (%s B)  fds %s\n' "$n" \
                "$(median "$name/$n" rssrun_idle_kb)" "$(median "$name/$n" rssrun_held_kb)" \
                "$(median "$name/$n" rssrun_bytes_per_conn)" \
                "$(median "$name/$n" rss_idle_kb)" "$(median "$name/$n" rss_held_kb)" "$(median "$name/$n" rss_bytes_per_conn)" \
                "$(median "$name/$n" nmt_idle_kb)" "$(median "$name/$n" nmt_held_kb)" "$(median "$name/$n" nmt_bytes_per_conn)" \
                "$(median "$name/$n" heap_idle_kb)" "$(median "$name/$n" heap_held_kb)" "$(median "$name/$n" heap_bytes_per_conn)" \
                "$(median "$name/$n" fds_held)"
        done
    done
    for name in "${NAMES[@]}"; do
        awk -v name="$name" -v d99="$(median direct http_p99_us)" -v m99="$(median "$name" http_p99_us)" \
            -v ca="$(median "$name/A" cpu_us_per_req_http)" -v cb="$(median "$name/B" cpu_us_per_req_http)" \
            -v ba="$(median "$name/A" rss_bytes_per_conn)" -v bb="$(median "$name/B" rss_bytes_per_conn)" \
            -v ra="$(median "$name/A" rss_held_kb)" -v rb="$(median "$name/B" rss_held_kb)" \
            -v qa="$(median "$name/A" rssrun_held_kb)" -v qb="$(median "$name/B" rssrun_held_kb)" \
            -v ha="$(median "$name/A" heap_bytes_per_conn)" -v hb="$(median "$name/B" heap_bytes_per_conn)" \
            -v n="$(median "$name" held_conns)" -v rate="$RATE" '
            function verdict(ok) { return ok ? "PASS" : "FAIL" }
            function max(x, y) { return x > y ? x : y }
            BEGIN {
                print name ": targets of issue 4"
                if (m99 != "-") printf "  added p99 <= 500 us at %d req/s (HTTP):               %s (%.0f us)\n", rate, verdict(m99 - d99 <= 500), m99 - d99
                if (ca != "-") printf "  CPU <= 60 us per request, per ztunnel:                %s (A %.1f us, B %.1f us)\n", verdict(max(ca, cb) <= 60), ca, cb
                if (n != "-") {
                    printf "  <= 8 KB (8,192 B) per idle connection, per ztunnel:  %s (A %d B, B %d B of RSS after GC; live heap A %d B, B %d B)\n", verdict(max(ba, bb) <= 8192), ba, bb, ha, hb
                    # the larger of the RSS as running and after a full GC: a memory limit sees the first
                    printf "  RSS <= 160 MB with 10,000 connections, per ztunnel:  %s (%d connections: A %.1f MB, B %.1f MB as running; %.1f / %.1f MB after GC)\n", verdict(max(max(ra, rb), max(qa, qb)) * 1024 <= 160e6 && n >= 10000), n, qa * 1024 / 1e6, qb * 1024 / 1e6, ra * 1024 / 1e6, rb * 1024 / 1e6
                }
            }'
    done
} | tee "$OUT/summary.txt"
