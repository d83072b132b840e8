#!/usr/bin/env bash
# HBONE benchmarks: one TCP stream through Ambit (client-side relay -> HBONE -> server-side relay, one JVM)
# compared, in the same run, with direct loopback TCP and with a pair of stunnel processes doing mutual
# TLS 1.3 with AES-128-GCM; then (part "jmh") the JMH handshake and stream-open benchmarks.
# See bench/README.md, section "HBONE", for what each number means.
#
#   bench/run-hbone-bench.sh              load comparison (2 rounds), then JMH: about 10 minutes
#   bench/run-hbone-bench.sh load         only the load comparison
#   bench/run-hbone-bench.sh jmh          only the JMH benchmarks
#   ROUNDS=3 AMBIT_TRANSPORTS="default nio" bench/run-hbone-bench.sh load
#
# Needs iperf3 and stunnel4 (Debian: apt-get install -y iperf3 stunnel4); installs nothing itself.
# Everything listens on 127.0.0.1; every wait and loop is bounded; on exit it stops only the processes
# it started (by PID). Results and logs go to bench/target/results/hbone-<time>/.
#
# Settings (environment):
#   ROUNDS=2                 measurement rounds; each round measures every setup once, interleaved;
#                            the summary shows medians over the rounds
#   AMBIT_TRANSPORTS="default nio"   one Ambit harness per entry: "default" lets Transports pick
#                            (epoll > io_uring > NIO); any other value is passed as -Dambit.transport
#   TPUT_SECONDS=10          iperf3 -t, one stream, after a 3 s warm-up run
#   LAT_COUNT=20000          64-byte round trips timed per latency run (after 2000 untimed)
#   CONN_SECONDS=10 CONN_CONCURRENCY=4   connection-rate run length and parallel clients
#   HARNESS_THREADS=1        event loops of each side of the Ambit harness (client side, server side)
#   SKIP_BUILD=1             use the jar already in bench/target
#   JMH_ARGS="..."           extra JMH options for the jmh part
# If fortio is on the PATH (USE_FORTIO=0 to ignore it), the latency runs use `fortio load` against the
# same echo server instead of the Java latency client.
set -euo pipefail

cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
JAR=bench/target/ambit-bench.jar
ROUNDS="${ROUNDS:-2}"
read -r -a TRANSPORTS <<< "${AMBIT_TRANSPORTS:-default nio}"
TPUT_SECONDS="${TPUT_SECONDS:-10}"
LAT_COUNT="${LAT_COUNT:-20000}"
CONN_SECONDS="${CONN_SECONDS:-10}"
CONN_CONCURRENCY="${CONN_CONCURRENCY:-4}"
HARNESS_THREADS="${HARNESS_THREADS:-1}"
read -r -a JMH_EXTRA <<< "${JMH_ARGS:-}"
CLK_TCK="$(getconf CLK_TCK)"

if [[ $# -eq 0 ]]; then
    set -- load jmh
fi
for part in "$@"; do
    case "$part" in
    load | jmh) ;;
    *)
        echo "unknown part: $part (expected: load, jmh)" >&2
        exit 2
        ;;
    esac
done

# --- tools -------------------------------------------------------------------------------------------
missing=()
command -v iperf3 > /dev/null || missing+=(iperf3)
STUNNEL="$(command -v stunnel4 || command -v stunnel || true)"
[[ -n "$STUNNEL" ]] || missing+=(stunnel4)
if [[ " $* " == *" load "* && ${#missing[@]} -gt 0 ]]; then
    echo "missing: ${missing[*]}. Install them with:  apt-get install -y iperf3 stunnel4" >&2
    exit 2
fi
JSON="$(command -v jq || true)"
FORTIO=""
if [[ "${USE_FORTIO:-1}" != 0 ]]; then
    FORTIO="$(command -v fortio || true)"
fi

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    ./mvnw -B -q -pl bench -am package -DskipTests -Dspotless.check.skip=true
fi
[[ -f "$JAR" ]] || { echo "no $JAR (build failed?)" >&2; exit 1; }

OUT="bench/target/results/hbone-$(date -u +%Y%m%dT%H%M%SZ)"
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

# Waits (at most 10 s) for a process we started to exit; then kills it hard.
stop_wait() {
    local pid=$1 i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2> /dev/null || { wait "$pid" 2> /dev/null || true; return 0; }
        sleep 0.1
    done
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
}

# Starts a background process with its output in a log; its PID goes into the named variable.
start() { # var log command...
    local var=$1 log=$2
    shift 2
    "$@" > "$log" 2>&1 &
    PIDS+=($!)
    printf -v "$var" %d $!
}

TAKEN=" "
free_port() { # var: a port in 20000-31999 (below the ephemeral range) nobody uses
    local var=$1 p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        if [[ "$TAKEN" != *" $p "* ]] && [[ -z "$(ss -Htan "( sport = :$p or dport = :$p )")" ]]; then
            TAKEN+="$p "
            printf -v "$var" %d "$p"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

wait_listen() { # port pid: until something listens on 127.0.0.1:port (20 s at most)
    local port=$1 pid=$2 i
    for ((i = 0; i < 200; i++)); do
        [[ -n "$(ss -Hltn "( sport = :$port )")" ]] && return 0
        kill -0 "$pid" 2> /dev/null || { echo "process $pid died before listening on $port" >&2; return 1; }
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$port after 20 s" >&2
    return 1
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

cpu_ticks() { # pid...: user+system clock ticks, summed over the processes (threads included)
    local total=0 pid t
    for pid in "$@"; do
        # fields after "pid (comm) ": state is 1, utime 12, stime 13
        t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
        total=$((total + t))
    done
    echo "$total"
}

json_field() { # file jq-path
    if [[ -n "$JSON" ]]; then
        "$JSON" -r "$2" "$1"
    else
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].strip(".").split("."): d=d[k]
print(d)' "$1" "$2"
    fi
}

kv() { # line key: the value of key=value in line
    sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<< "$1"
}

RESULTS="$OUT/results.tsv" # setup metric round value
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RESULTS"; }

# The Java load clients (a command prefix, so that `timeout` can run it): TOOL+=(io.ambit.bench.hbone.X args)
TOOL=("$JAVA" "${FLAGS[@]}" -Xmx256m -cp "$JAR")

# --- measurements --------------------------------------------------------------------------------------
throughput() { # setup round port pid...
    local setup=$1 round=$2 port=$3
    shift 3
    local file="$OUT/iperf-$setup-$round.json" before after bytes bps cpu
    timeout 30 iperf3 -c 127.0.0.1 -p "$port" -t 3 --connect-timeout 5000 -J > /dev/null # warm-up
    before=$(cpu_ticks "$@")
    timeout $((TPUT_SECONDS + 30)) iperf3 -c 127.0.0.1 -p "$port" -t "$TPUT_SECONDS" --connect-timeout 5000 -J > "$file"
    after=$(cpu_ticks "$@")
    bytes=$(json_field "$file" .end.sum_received.bytes)
    bps=$(json_field "$file" .end.sum_received.bits_per_second)
    cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
    record "$setup" gbps "$round" "$(awk -v b="$bps" 'BEGIN { printf "%.2f", b / 1e9 }')"
    if [[ $# -gt 0 ]]; then
        record "$setup" cpu_s_per_gb "$round" "$(awk -v c="$cpu" -v b="$bytes" 'BEGIN { printf "%.3f", c / (b / 1e9) }')"
    fi
    printf '  %-22s throughput %6.2f Gbit/s  %6.2f GB  proxy CPU %s s\n' "$setup" \
        "$(awk -v b="$bps" 'BEGIN { print b / 1e9 }')" "$(awk -v b="$bytes" 'BEGIN { print b / 1e9 }')" \
        "$([[ $# -gt 0 ]] && echo "$cpu" || echo -)"
}

latency() { # setup round port
    local setup=$1 round=$2 port=$3 line p50 p99
    if [[ -n "$FORTIO" ]]; then
        local file="$OUT/fortio-$setup-$round.json"
        timeout 120 "$FORTIO" load -qps -1 -c 1 -n "$LAT_COUNT" -payload-size 64 -json "$file" \
            "tcp://127.0.0.1:$port" > /dev/null 2>&1
        p50=$("$JSON" -r '.DurationHistogram.Percentiles[] | select(.Percentile == 50) | .Value * 1e6' "$file")
        p99=$("$JSON" -r '.DurationHistogram.Percentiles[] | select(.Percentile == 99) | .Value * 1e6' "$file")
        line="fortio p50_us=$p50 p99_us=$p99"
    else
        line=$(timeout 90 "${TOOL[@]}" io.ambit.bench.hbone.LatencyClient --port "$port" --count "$LAT_COUNT" --warmup 2000 --max-seconds 60)
        p50=$(kv "$line" p50_us)
        p99=$(kv "$line" p99_us)
    fi
    echo "$setup $round $line" >> "$OUT/latency.log"
    record "$setup" p50_us "$round" "$p50"
    record "$setup" p99_us "$round" "$p99"
    printf '  %-22s latency    p50 %7.1f us  p99 %7.1f us\n' "$setup" "$p50" "$p99"
}

connrate() { # setup round port pid...
    local setup=$1 round=$2 port=$3 line before after rate n
    shift 3
    timeout 60 "${TOOL[@]}" io.ambit.bench.hbone.ConnectionRateClient --port "$port" --seconds 2 --concurrency "$CONN_CONCURRENCY" > /dev/null # warm-up
    before=$(cpu_ticks "$@")
    line=$(timeout $((CONN_SECONDS + 60)) "${TOOL[@]}" io.ambit.bench.hbone.ConnectionRateClient --port "$port" --seconds "$CONN_SECONDS" \
        --concurrency "$CONN_CONCURRENCY")
    after=$(cpu_ticks "$@")
    echo "$setup $round $line" >> "$OUT/connrate.log"
    rate=$(kv "$line" per_second)
    n=$(kv "$line" connections)
    record "$setup" conn_per_s "$round" "$rate"
    record "$setup" conn_errors "$round" "$(kv "$line" errors)"
    if [[ $# -gt 0 ]]; then
        record "$setup" cpu_ms_per_conn "$round" \
            "$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", t / hz * 1000 / n }')"
    fi
    printf '  %-22s new conns  %7.0f /s  (%s errors)\n' "$setup" "$rate" "$(kv "$line" errors)"
}

fmt() { # printf-format value: the value formatted, or "-" as is
    if [[ "$2" == - ]]; then echo -; else printf "$1" "$2"; fi
}

median() { # setup metric: median over rounds, or "-"
    awk -F'\t' -v s="$1" -v m="$2" '$1 == s && $2 == m { print $4 }' "$RESULTS" | sort -g | awk '
        { v[NR] = $1 }
        END { if (NR == 0) { print "-" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# --- the load comparison -------------------------------------------------------------------------------
run_load() {
    local iperf_port echo_port ss_iperf ss_echo sc_iperf sc_echo sc_resume
    free_port iperf_port
    free_port echo_port
    free_port ss_iperf
    free_port ss_echo
    free_port sc_iperf
    free_port sc_echo
    free_port sc_resume

    echo "== certificates for stunnel (./ambit ca init / ca issue)"
    ./ambit ca init "$OUT/ca" > "$OUT/ca.log"
    ./ambit ca issue spiffe://cluster.local/ns/bench/sa/stunnel-server --ca "$OUT/ca" --out "$OUT/server" >> "$OUT/ca.log"
    ./ambit ca issue spiffe://cluster.local/ns/bench/sa/stunnel-client --ca "$OUT/ca" --out "$OUT/client" >> "$OUT/ca.log"

    echo "== targets: iperf3 server 127.0.0.1:$iperf_port, echo server 127.0.0.1:$echo_port"
    local iperf_pid echo_pid
    start iperf_pid "$OUT/iperf3-server.log" iperf3 -s -B 127.0.0.1 -p "$iperf_port" --idle-timeout 120
    start echo_pid "$OUT/echo-server.log" "$JAVA" "${FLAGS[@]}" -Xmx512m -cp "$JAR" \
        io.ambit.bench.hbone.EchoServer --port "$echo_port" --max-seconds 7200
    wait_listen "$iperf_port" "$iperf_pid"
    wait_listen "$echo_port" "$echo_pid"

    echo "== stunnel pair: client 127.0.0.1:$sc_iperf,$sc_echo -> server 127.0.0.1:$ss_iperf,$ss_echo (mTLS 1.3, AES-128-GCM)"
    # Common: TLS 1.3 only, AES-128-GCM only, certificate chain verified against the root both ways.
    local common="sslVersion = TLSv1.3
ciphersuites = TLS_AES_128_GCM_SHA256
CAfile = $OUT/ca/root-cert.pem
verifyChain = yes
foreground = yes
pid =
syslog = no
debug = 3"
    cat > "$OUT/stunnel-server.conf" << EOF
$common
output = $OUT/stunnel-server.log
cert = $OUT/server/cert-chain.pem
key = $OUT/server/key.pem
requireCert = yes
[iperf]
accept = 127.0.0.1:$ss_iperf
connect = 127.0.0.1:$iperf_port
[echo]
accept = 127.0.0.1:$ss_echo
connect = 127.0.0.1:$echo_port
EOF
    # The client resumes no sessions (a full handshake per connection, as Ambit), except [echo-resume].
    cat > "$OUT/stunnel-client.conf" << EOF
$common
output = $OUT/stunnel-client.log
cert = $OUT/client/cert-chain.pem
key = $OUT/client/key.pem
client = yes
sessionResume = no
[iperf]
accept = 127.0.0.1:$sc_iperf
connect = 127.0.0.1:$ss_iperf
[echo]
accept = 127.0.0.1:$sc_echo
connect = 127.0.0.1:$ss_echo
[echo-resume]
accept = 127.0.0.1:$sc_resume
connect = 127.0.0.1:$ss_echo
sessionResume = yes
EOF
    local stunnel_server stunnel_client
    start stunnel_server "$OUT/stunnel-server.out" "$STUNNEL" "$OUT/stunnel-server.conf"
    start stunnel_client "$OUT/stunnel-client.out" "$STUNNEL" "$OUT/stunnel-client.conf"
    wait_listen "$ss_echo" "$stunnel_server"
    wait_listen "$sc_echo" "$stunnel_client"

    local -a harness_pids=() harness_names=() h_iperf=() h_echo=() h_echo_unpooled=()
    local t name props pid log
    for t in "${TRANSPORTS[@]}"; do
        name="ambit-$t"
        props=()
        [[ "$t" == default ]] || props=("-Dambit.transport=$t")
        log="$OUT/harness-$t.log"
        start pid "$log" "$JAVA" "${FLAGS[@]}" -Xms1g -Xmx1g "${props[@]}" -cp "$JAR" io.ambit.bench.hbone.LoadHarness \
            --target "$iperf_port" --target "$echo_port" --unpooled --threads "$HARNESS_THREADS" --max-seconds 7200
        wait_line "$log" '^ready' "$pid"
        harness_pids+=("$pid")
        harness_names+=("$name")
        h_iperf+=("$(awk -v p="target=127.0.0.1:$iperf_port" '$1 == "listener" && $3 == p && $4 == "mode=pooled" { sub(/.*:/, "", $2); print $2 }' "$log")")
        h_echo+=("$(awk -v p="target=127.0.0.1:$echo_port" '$1 == "listener" && $3 == p && $4 == "mode=pooled" { sub(/.*:/, "", $2); print $2 }' "$log")")
        h_echo_unpooled+=("$(awk -v p="target=127.0.0.1:$echo_port" '$1 == "listener" && $3 == p && $4 == "mode=unpooled" { sub(/.*:/, "", $2); print $2 }' "$log")")
        echo "== Ambit harness ($name, PID $pid): $(grep -m1 '^transport=' "$log")"
    done

    local round i
    for ((round = 1; round <= ROUNDS; round++)); do
        echo "== round $round of $ROUNDS"
        throughput direct "$round" "$iperf_port"
        latency direct "$round" "$echo_port"
        connrate direct "$round" "$echo_port"

        throughput stunnel "$round" "$sc_iperf" "$stunnel_client" "$stunnel_server"
        latency stunnel "$round" "$sc_echo"
        connrate stunnel "$round" "$sc_echo" "$stunnel_client" "$stunnel_server"
        connrate stunnel-resume "$round" "$sc_resume" "$stunnel_client" "$stunnel_server"

        for i in "${!harness_pids[@]}"; do
            name="${harness_names[$i]}"
            pid="${harness_pids[$i]}"
            throughput "$name" "$round" "${h_iperf[$i]}" "$pid"
            latency "$name" "$round" "${h_echo[$i]}"
            connrate "$name" "$round" "${h_echo[$i]}" "$pid"
            connrate "$name-unpooled" "$round" "${h_echo_unpooled[$i]}" "$pid"
        done
    done

    # Stop the harnesses first: each prints its tunnel counts and the first tunnel's TLS parameters.
    for i in "${!harness_pids[@]}"; do
        kill "${harness_pids[$i]}" 2> /dev/null || true
        stop_wait "${harness_pids[$i]}"
        echo "== ${harness_names[$i]}: $(grep -m1 '^transport=' "$OUT/harness-${TRANSPORTS[$i]}.log")"
        grep -E '^(stats|pool)' "$OUT/harness-${TRANSPORTS[$i]}.log" | sed 's/^/   /'
    done

    summary | tee "$OUT/summary.txt"
}

summary() {
    local setups=(direct stunnel stunnel-resume)
    local t
    for t in "${TRANSPORTS[@]}"; do
        setups+=("ambit-$t" "ambit-$t-unpooled")
    done
    echo
    echo "== summary: medians of $ROUNDS round(s); $(date -u +%FT%TZ); iperf3 -t $TPUT_SECONDS (1 stream), $LAT_COUNT x 64 B round trips, connections for ${CONN_SECONDS}s x $CONN_CONCURRENCY clients"
    printf '%-24s %10s %12s %9s %9s %10s %14s\n' setup 'Gbit/s' 'CPU s/GB' 'p50 us' 'p99 us' 'conns/s' 'CPU ms/conn'
    local s
    for s in "${setups[@]}"; do
        printf '%-24s %10s %12s %9s %9s %10s %14s\n' "$s" "$(fmt %.2f "$(median "$s" gbps)")" \
            "$(fmt %.2f "$(median "$s" cpu_s_per_gb)")" "$(fmt %.1f "$(median "$s" p50_us)")" \
            "$(fmt %.1f "$(median "$s" p99_us)")" "$(fmt %.0f "$(median "$s" conn_per_s)")" \
            "$(fmt %.2f "$(median "$s" cpu_ms_per_conn)")"
    done
    echo
    echo "targets (Ambit vs the stunnel pair):"
    local st_g st_p50 d_p50 st_c
    st_g=$(median stunnel gbps)
    st_p50=$(median stunnel p50_us)
    d_p50=$(median direct p50_us)
    st_c=$(median stunnel conn_per_s)
    for t in "${TRANSPORTS[@]}"; do
        s="ambit-$t"
        awk -v s="$s" -v ag="$(median "$s" gbps)" -v sg="$st_g" -v ap="$(median "$s" p50_us)" -v sp="$st_p50" \
            -v dp="$d_p50" -v ac="$(median "$s" conn_per_s)" -v au="$(median "$s-unpooled" conn_per_s)" -v sc="$st_c" '
            function verdict(ok) { return ok ? "PASS" : "FAIL" }
            BEGIN {
                r = ag / sg
                printf "  %-18s throughput %.2fx stunnel (>= 1.0, goal 1.5): %s%s\n", s, r, verdict(r >= 1.0), (r >= 1.5 ? ", goal met" : "")
                added = ap - dp; sadded = sp - dp
                printf "  %-18s added p50 latency %.1f us vs stunnel %.1f us = %.2fx (<= 1.2): %s\n", s, added, sadded, added / sadded, verdict(added / sadded <= 1.2)
                printf "  %-18s new tunnels/s %.0f pooled, %.0f unpooled vs stunnel %.0f new TLS conns/s (>=): %s pooled, %s unpooled\n", s, ac, au, sc, verdict(ac >= sc), verdict(au >= sc)
            }'
    done
}

# --- JMH -----------------------------------------------------------------------------------------------
run_jmh() {
    local t props
    for t in "${TRANSPORTS[@]}"; do
        props=()
        [[ "$t" == default ]] || props=("-Dambit.transport=$t")
        echo "== JMH ($t): HandshakeBench, StreamOpenBench"
        "$JAVA" "${FLAGS[@]}" "${props[@]}" -jar "$JAR" 'io.ambit.bench.hbone.(HandshakeBench|StreamOpenBench)' \
            -f 1 -wi 3 -i 5 "${JMH_EXTRA[@]}" -rf json -rff "$OUT/jmh-$t.json" | tee "$OUT/jmh-$t.txt"
    done
}

for part in "$@"; do
    case "$part" in
    load) run_load ;;
    jmh) run_jmh ;;
    esac
done
