#!/usr/bin/env bash
# ztunnel benchmark: the same traffic directly to a target and through two Ambit ztunnels
# (client -> SOCKS5 of node A's workload -> HBONE -> node B's workload :15008 -> the target), in one run.
# See bench/README.md, section "ztunnel", for what each number means.
#
#   bench/run-ztunnel-bench.sh                 about 2 minutes per round
#   ROUNDS=3 RATE=1000 bench/run-ztunnel-bench.sh
#
# The mesh is bench/ztunnel-mesh.yaml, started with `./ambit run` (both ztunnels in one JVM: every CPU
# and memory number below is for the two of them together). The targets and the load generator are
# io.ambit.bench.ztunnel.SocksLoad (separate JVMs): an echo server and a sink on 127.0.4.1:9001/9002.
# Measured, direct and through the mesh:
#   throughput   one TCP stream of 64 KiB frames into the sink for TPUT_SECONDS (the Java generator's bulk
#                mode, not iperf3: iperf3 cannot speak SOCKS5); bytes counted by the sink
#   latency      RATE requests/s of SIZE bytes to the echo server, open loop over CONNECTIONS connections
#                for LAT_SECONDS (after a WARMUP_SECONDS run), HdrHistogram p50/p90/p99
#   connections  new connections/s for CONN_SECONDS from CONN_CONCURRENCY clients (each: connect, SOCKS5
#                handshake, one 64-byte round trip, close)
#   CPU          user+system ticks of the `ambit run` JVM (/proc/PID/stat) around each mesh run, per request
#                and per connection; the idle rate of the JVM is measured too and subtracted
#   memory       VmRSS of the `ambit run` JVM after a full GC (jcmd GC.run), idle and while HOLD_CONNS idle
#                connections are open through the mesh
# Everything is on 127.0.0.0/8; every wait and loop is bounded; on exit it stops only the processes it
# started (by PID). Results and logs go to bench/target/results/ztunnel-<time>/.
#
# Settings (environment): ROUNDS=1 TPUT_SECONDS=10 RATE=1000 LAT_SECONDS=10 WARMUP_SECONDS=5
#   CONNECTIONS=4 SIZE=64 CONN_SECONDS=5 CONN_CONCURRENCY=4 HOLD_CONNS=5000 (0: skip memory)
#   ZT_JAVA_OPTS="..." (JVM options of `ambit run`, e.g. -Xmx256m) SKIP_BUILD=1
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
JAR=bench/target/ambit-bench.jar
MESH=bench/ztunnel-mesh.yaml
ROUNDS="${ROUNDS:-1}"
TPUT_SECONDS="${TPUT_SECONDS:-10}"
RATE="${RATE:-1000}"
LAT_SECONDS="${LAT_SECONDS:-10}"
WARMUP_SECONDS="${WARMUP_SECONDS:-5}"
CONNECTIONS="${CONNECTIONS:-4}"
SIZE="${SIZE:-64}"
CONN_SECONDS="${CONN_SECONDS:-5}"
CONN_CONCURRENCY="${CONN_CONCURRENCY:-4}"
HOLD_CONNS="${HOLD_CONNS:-5000}"
CLK_TCK="$(getconf CLK_TCK)"

# The addresses of bench/ztunnel-mesh.yaml
CLIENT_IP=127.0.3.1
SERVER_IP=127.0.4.1
SOCKS="$CLIENT_IP:15080"
ECHO="$SERVER_IP:9001"
SINK="$SERVER_IP:9002"
VIP_URL="http://127.10.4.1:8000/"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    ./mvnw -B -q -pl bench,cli -am package -DskipTests -Dspotless.check.skip=true
fi
[[ -f "$JAR" ]] || { echo "no $JAR (build failed?)" >&2; exit 1; }

listening() { # ip:port: the lines of `ss -Hltn` on stdin for that address, a wildcard, or its IPv4-mapped form
    awk -v a="$1" 'BEGIN { split(a, p, ":"); m = "[::ffff:" p[1] "]:" p[2] }
        $4 == a || $4 == m || $4 ~ /^(0\.0\.0\.0|\*|\[::\]):/'
}

# `ambit run` listens on these; another mesh running here would take the traffic or the ports.
for addr in "$SOCKS" "$SERVER_IP:15008" "$ECHO" "$SINK" 127.0.0.1:15000; do
    if [[ -n "$(ss -Hltn "( sport = :${addr##*:} )" | listening "$addr")" ]]; then
        echo "something already listens on $addr (another ambit run?); stop it first" >&2
        exit 2
    fi
done

OUT="bench/target/results/ztunnel-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
echo "results and logs: $OUT"

# --- processes we start: stopped on exit, by PID only -----------------------------------------------
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2> /dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        stop_wait "$pid"
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_wait() { # pid: waits (at most 10 s) for a process we started to exit; then kills it hard
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

wait_line() { # log pattern pid: until the log has a line matching (60 s at most)
    local log=$1 pattern=$2 pid=$3 i
    for ((i = 0; i < 600; i++)); do
        grep -q -- "$pattern" "$log" && return 0
        kill -0 "$pid" 2> /dev/null || { echo "process $pid died; its log:" >&2; cat "$log" >&2; return 1; }
        sleep 0.1
    done
    echo "no '$pattern' in $log after 60 s" >&2
    return 1
}

wait_listen() { # ip:port pid: until something listens there (60 s at most)
    local addr=$1 pid=$2 i
    for ((i = 0; i < 600; i++)); do
        [[ -n "$(ss -Hltn "( sport = :${addr##*:} )" | listening "$addr")" ]] && return 0
        kill -0 "$pid" 2> /dev/null || { echo "process $pid died before listening on $addr" >&2; return 1; }
        sleep 0.1
    done
    echo "nothing listens on $addr after 60 s" >&2
    return 1
}

cpu_ticks() { # pid: user+system clock ticks (threads included); fields after "pid (comm) ": utime 12, stime 13
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

rss_kb() { # pid: VmRSS in KiB after a full GC (so that garbage does not count as memory held)
    "$JAVA_HOME/bin/jcmd" "$1" GC.run > /dev/null 2>&1 || true
    sleep 1
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<< "$1"; } # line key: the value of key=value

RESULTS="$OUT/results.tsv" # setup metric round value
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RESULTS"; }
median() { # setup metric: median over rounds, or "-"
    awk -F'\t' -v s="$1" -v m="$2" '$1 == s && $2 == m { print $4 }' "$RESULTS" 2> /dev/null | sort -g | awk '
        { v[NR] = $1 }
        END { if (NR == 0) { print "-" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

LOAD=("$JAVA" -Xmx512m -cp "$JAR" io.ambit.bench.ztunnel.SocksLoad)
via() { [[ "$1" == mesh ]] && echo "--socks $SOCKS" || true; } # setup: the generator's proxy option

# --- start: the targets, then the mesh ------------------------------------------------------------------
start target_pid "$OUT/targets.log" "${LOAD[@]}" serve --bind "$SERVER_IP" --echo-port "${ECHO##*:}" \
    --sink-port "${SINK##*:}" --max-seconds 7200
wait_line "$OUT/targets.log" '^ready' "$target_pid"

# exec'd by the launcher: this PID is the JVM's
export AMBIT_JAVA_OPTS="${ZT_JAVA_OPTS:-}"
start mesh_pid "$OUT/ambit-run.log" ./ambit run "$MESH" --ca-dir "$OUT/ca"
wait_listen "$SOCKS" "$mesh_pid"
wait_listen "$SERVER_IP:15008" "$mesh_pid"
echo "== mesh: ./ambit run $MESH (PID $mesh_pid); targets (PID $target_pid) echo $ECHO, sink $SINK"

# Sanity, once: the service VIP reaches the demo echo server; the load target answers through the mesh.
if command -v curl > /dev/null; then
    echo "   through the VIP: $(curl -sS -m 10 --socks5 "$SOCKS" "$VIP_URL" | head -1)"
fi
timeout 60 "${LOAD[@]}" rr --target "$ECHO" --socks "$SOCKS" --rate 100 --seconds 1 --connections 1 > "$OUT/sanity.txt"
echo "   through SOCKS5 to the echo target: $(cat "$OUT/sanity.txt")"

# Idle CPU of the ambit JVM (timers, JIT finishing): subtracted from the per-request CPU below.
sleep 3
t0=$(cpu_ticks "$mesh_pid")
sleep 5
idle_ticks_per_s=$(awk -v t=$(($(cpu_ticks "$mesh_pid") - t0)) 'BEGIN { printf "%.3f", t / 5 }')
echo "   idle CPU of the ambit JVM: $(awk -v t="$idle_ticks_per_s" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz * 1000 }') ms/s"

# cpu_us setup-count ticks seconds: CPU µs per unit, raw and with the idle rate subtracted
cpu_per() {
    awk -v n="$1" -v t="$2" -v s="$3" -v idle="$idle_ticks_per_s" -v hz="$CLK_TCK" 'BEGIN {
        printf "%.1f %.1f", t / hz * 1e6 / n, (t - idle * s) / hz * 1e6 / n }'
}

# --- measurements ----------------------------------------------------------------------------------------
throughput() { # setup round
    local setup=$1 round=$2 line before after
    timeout 60 "${LOAD[@]}" bulk --target "$SINK" $(via "$setup") --seconds 2 > /dev/null # warm-up
    before=$(cpu_ticks "$mesh_pid")
    line=$(timeout $((TPUT_SECONDS + 60)) "${LOAD[@]}" bulk --target "$SINK" $(via "$setup") --seconds "$TPUT_SECONDS")
    after=$(cpu_ticks "$mesh_pid")
    echo "$setup $round $line" >> "$OUT/bulk.log"
    record "$setup" gbps "$round" "$(kv "$line" gbit_per_second)"
    [[ "$setup" == mesh ]] && record mesh cpu_s_per_gb "$round" \
        "$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v b="$(kv "$line" bytes)" 'BEGIN { printf "%.2f", t / hz / (b / 1e9) }')"
    printf '  %-6s throughput %7.2f Gbit/s\n' "$setup" "$(kv "$line" gbit_per_second)"
}

latency() { # setup round
    local setup=$1 round=$2 line before after cpu
    timeout $((WARMUP_SECONDS + 60)) "${LOAD[@]}" rr --target "$ECHO" $(via "$setup") --rate "$RATE" \
        --seconds "$WARMUP_SECONDS" --connections "$CONNECTIONS" --size "$SIZE" > /dev/null
    before=$(cpu_ticks "$mesh_pid")
    line=$(timeout $((LAT_SECONDS + 60)) "${LOAD[@]}" rr --target "$ECHO" $(via "$setup") --rate "$RATE" \
        --seconds "$LAT_SECONDS" --connections "$CONNECTIONS" --size "$SIZE")
    after=$(cpu_ticks "$mesh_pid")
    echo "$setup $round $line" >> "$OUT/rr.log"
    local m
    for m in p50_us p90_us p99_us p999_us errors; do
        record "$setup" "$m" "$round" "$(kv "$line" "$m")"
    done
    if [[ "$setup" == mesh ]]; then
        read -r cpu cpu_net <<< "$(cpu_per "$(kv "$line" requests)" $((after - before)) "$LAT_SECONDS")"
        record mesh cpu_us_per_req "$round" "$cpu"
        record mesh cpu_us_per_req_net "$round" "$cpu_net"
    fi
    printf '  %-6s latency    p50 %7.1f  p90 %7.1f  p99 %7.1f  p99.9 %7.1f us  (%s requests, %s errors)%s\n' "$setup" \
        "$(kv "$line" p50_us)" "$(kv "$line" p90_us)" "$(kv "$line" p99_us)" "$(kv "$line" p999_us)" \
        "$(kv "$line" requests)" "$(kv "$line" errors)" \
        "$([[ "$setup" == mesh ]] && echo "  CPU $cpu us/req ($cpu_net net of idle)")"
}

connrate() { # setup round
    local setup=$1 round=$2 line before after cpu cpu_net
    timeout 60 "${LOAD[@]}" conn --target "$ECHO" $(via "$setup") --seconds 2 --concurrency "$CONN_CONCURRENCY" > /dev/null
    sleep 2 # let TIME_WAIT of the warm-up age a little
    before=$(cpu_ticks "$mesh_pid")
    line=$(timeout $((CONN_SECONDS + 60)) "${LOAD[@]}" conn --target "$ECHO" $(via "$setup") --seconds "$CONN_SECONDS" \
        --concurrency "$CONN_CONCURRENCY" 2> "$OUT/conn-$setup-$round.err")
    after=$(cpu_ticks "$mesh_pid")
    echo "$setup $round $line" >> "$OUT/conn.log"
    record "$setup" conn_per_s "$round" "$(kv "$line" per_second)"
    record "$setup" conn_errors "$round" "$(kv "$line" errors)"
    if [[ "$setup" == mesh ]]; then
        read -r cpu cpu_net <<< "$(cpu_per "$(kv "$line" connections)" $((after - before)) "$CONN_SECONDS")"
        record mesh cpu_us_per_conn "$round" "$cpu_net"
    fi
    printf '  %-6s new conns  %7.0f /s  (%s errors)%s\n' "$setup" "$(kv "$line" per_second)" "$(kv "$line" errors)" \
        "$([[ "$setup" == mesh ]] && echo "  CPU $cpu_net us/conn net of idle")"
}

memory() {
    local idle held line hold_pid i
    idle=$(rss_kb "$mesh_pid")
    record mesh rss_idle_kb 1 "$idle"
    start hold_pid "$OUT/hold.log" "${LOAD[@]}" hold --target "$ECHO" --socks "$SOCKS" --count "$HOLD_CONNS" \
        --hold-seconds 120
    wait_line "$OUT/hold.log" '^hold ' "$hold_pid"
    sleep 2
    held=$(rss_kb "$mesh_pid")
    line=$(grep -m1 '^hold ' "$OUT/hold.log")
    local opened
    opened=$(kv "$line" opened)
    record mesh rss_held_kb 1 "$held"
    record mesh held_conns 1 "$opened"
    record mesh bytes_per_conn 1 "$(awk -v a="$idle" -v b="$held" -v n="$opened" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')"
    echo "  mesh   memory     RSS idle $((idle / 1024)) MiB; with $opened idle connections $((held / 1024)) MiB" \
        "($(median mesh bytes_per_conn) bytes per connection; $(kv "$line" errors) errors)"
    kill "$hold_pid" 2> /dev/null || true
    stop_wait "$hold_pid"
}

for ((round = 1; round <= ROUNDS; round++)); do
    echo "== round $round of $ROUNDS"
    for setup in direct mesh; do
        throughput "$setup" "$round"
    done
    for setup in direct mesh; do
        latency "$setup" "$round"
    done
    for setup in direct mesh; do
        connrate "$setup" "$round"
    done
done
if ((HOLD_CONNS > 0)); then
    memory
fi

# --- summary ---------------------------------------------------------------------------------------------
{
    echo
    echo "== summary: medians of $ROUNDS round(s); $(date -u +%FT%TZ); $(nproc) CPUs"
    echo "   one stream ${TPUT_SECONDS}s; $RATE req/s x ${LAT_SECONDS}s of $SIZE B over $CONNECTIONS connections (open loop);"
    echo "   new connections ${CONN_SECONDS}s x $CONN_CONCURRENCY clients; CPU and memory: the one JVM running both ztunnels"
    printf '%-8s %9s %9s %9s %9s %10s %10s\n' setup 'Gbit/s' 'p50 us' 'p90 us' 'p99 us' 'p99.9 us' 'conns/s'
    for s in direct mesh; do
        printf '%-8s %9s %9s %9s %9s %10s %10s\n' "$s" "$(median "$s" gbps)" "$(median "$s" p50_us)" \
            "$(median "$s" p90_us)" "$(median "$s" p99_us)" "$(median "$s" p999_us)" "$(median "$s" conn_per_s)"
    done
    echo
    awk -v d50="$(median direct p50_us)" -v m50="$(median mesh p50_us)" -v d90="$(median direct p90_us)" \
        -v m90="$(median mesh p90_us)" -v d99="$(median direct p99_us)" -v m99="$(median mesh p99_us)" \
        -v cpu="$(median mesh cpu_us_per_req)" -v cpun="$(median mesh cpu_us_per_req_net)" \
        -v cpuc="$(median mesh cpu_us_per_conn)" -v gb="$(median mesh cpu_s_per_gb)" \
        -v bpc="$(median mesh bytes_per_conn)" -v held="$(median mesh rss_held_kb)" -v n="$(median mesh held_conns)" \
        -v idle="$(median mesh rss_idle_kb)" -v rate="$RATE" '
        function verdict(ok) { return ok ? "PASS" : "FAIL" }
        BEGIN {
            printf "added latency: p50 %.1f us, p90 %.1f us, p99 %.1f us\n", m50 - d50, m90 - d90, m99 - d99
            printf "target added p99 <= 500 us at %d req/s:            %s (%.0f us)\n", rate, verdict(m99 - d99 <= 500), m99 - d99
            printf "target CPU <= 60 us per request (both ztunnels):     %s (%.1f us raw, %.1f us net of idle; per ztunnel about half)\n", verdict(cpun <= 60), cpu, cpun
            printf "CPU per new connection (both, net of idle): %.0f us; CPU per GB streamed: %.2f s\n", cpuc, gb
            if (n != "-" && n > 0) {
                printf "target <= 8 KB per idle connection (both ztunnels):  %s (%.0f bytes, RSS delta after GC over %d connections)\n", verdict(bpc <= 8192), bpc, n
                printf "target RSS <= 160 MB with 10,000 connections:        not measured (%d connections: %.0f MiB; idle %.0f MiB)\n", n, held / 1024, idle / 1024
            } else {
                print "memory: not measured (HOLD_CONNS=0)"
            }
        }'
} | tee "$OUT/summary.txt"
