# shellcheck shell=bash
# Processes a bench script starts, and only those: started in the background with their output in a log,
# waited for with bounded loops, stopped on exit by PID (never by name). Source it once, near the top:
#
#   source "$(dirname "$0")/lib/processes.sh"
#   start server_pid "$OUT/server.log" java -jar server.jar
#   wait_listen 127.96.4.1:9001 "$server_pid"
#   ... ; stop "$server_pid"          # or leave it: every process still running is stopped on exit
#
# On EXIT each process gets SIGTERM, then up to STOP_SECONDS (10) to end, then SIGKILL. INT and TERM end the
# script (exit 130), which runs the same cleanup.

PIDS=()
STOP_SECONDS="${STOP_SECONDS:-10}"

# start var log command...: runs command in the background, output (stdout and stderr) in log; its PID goes
# into the variable named var and into PIDS.
start() {
    local var=$1 log=$2
    shift 2
    "$@" > "$log" 2>&1 &
    PIDS+=($!)
    printf -v "$var" %d $!
}

# stop_wait pid: waits (at most STOP_SECONDS) for a process we started to exit, then kills it hard.
stop_wait() {
    local pid=$1 i
    for ((i = 0; i < STOP_SECONDS * 10; i++)); do
        kill -0 "$pid" 2> /dev/null || { wait "$pid" 2> /dev/null || true; return 0; }
        sleep 0.1
    done
    echo "process $pid did not exit within ${STOP_SECONDS} s of SIGTERM: SIGKILL" >&2
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
}

# stop pid...: SIGTERM to processes we started, then stop_wait each; they leave PIDS.
stop() {
    local pid p keep
    for pid in "$@"; do
        kill "$pid" 2> /dev/null || true
    done
    for pid in "$@"; do
        stop_wait "$pid"
        keep=()
        for p in "${PIDS[@]}"; do
            [[ "$p" == "$pid" ]] || keep+=("$p")
        done
        PIDS=("${keep[@]}")
    done
}

_processes_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2> /dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        stop_wait "$pid"
    done
    PIDS=()
}
trap _processes_cleanup EXIT
trap 'exit 130' INT TERM

# alive pid: whether a process we started still runs.
alive() { kill -0 "$1" 2> /dev/null; }

# wait_line log pattern pid [seconds]: until the log has a line matching the pattern (default 60 s). Fails,
# printing the log, when the process dies first.
wait_line() {
    local log=$1 pattern=$2 pid=$3 seconds=${4:-60} i
    for ((i = 0; i < seconds * 10; i++)); do
        grep -q -- "$pattern" "$log" 2> /dev/null && return 0
        alive "$pid" || { echo "process $pid died; its log ($log):" >&2; tail -50 "$log" >&2; return 1; }
        sleep 0.1
    done
    echo "no '$pattern' in $log after $seconds s" >&2
    return 1
}

# listening ip:port: the lines of `ss -Hltn` on stdin for that address, a wildcard, or its IPv4-mapped form.
listening() {
    awk -v a="$1" 'BEGIN { split(a, p, ":"); m = "[::ffff:" p[1] "]:" p[2] }
        $4 == a || $4 == m || $4 ~ /^(0\.0\.0\.0|\*|\[::\]):/'
}

# is_listening addr: whether something listens on addr (ip:port, or a port on any address).
is_listening() {
    local addr=$1
    if [[ "$addr" == *:* ]]; then
        [[ -n "$(ss -Hltn "( sport = :${addr##*:} )" | listening "$addr")" ]]
    else
        [[ -n "$(ss -Hltn "( sport = :$addr )")" ]]
    fi
}

# wait_listen addr pid [seconds]: until something listens on addr (ip:port or port; default 60 s).
wait_listen() {
    local addr=$1 pid=$2 seconds=${3:-60} i
    for ((i = 0; i < seconds * 10; i++)); do
        is_listening "$addr" && return 0
        alive "$pid" || { echo "process $pid died before listening on $addr" >&2; return 1; }
        sleep 0.1
    done
    echo "nothing listens on $addr after $seconds s" >&2
    return 1
}

# cpu_ticks pid...: user+system clock ticks (threads included), summed over the processes.
cpu_ticks() {
    local total=0 pid t
    for pid in "$@"; do
        # fields after "pid (comm) ": state is 1, utime 12, stime 13
        t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
        total=$((total + t))
    done
    echo "$total"
}

# sys_ticks pid: system (kernel) clock ticks of a process, threads included: on loopback a send() runs the
# peer's TCP receive path in the sender's context, so this is mostly kernel network work.
sys_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $13}'; }

# thread_ticks pid prefix: user+system clock ticks of the process's live threads whose name starts with prefix
# (e.g. the event loops, without the JIT compiler and GC threads).
thread_ticks() {
    local f total=0 t
    for f in /proc/"$1"/task/*/stat; do
        t=$(awk -v p="$2" '{ s = $0; c = substr(s, index(s, "(") + 1); c = substr(c, 1, index(c, ")") - 1)
            if (index(c, p) == 1) { sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] } else print 0 }' "$f" 2> /dev/null)
        total=$((total + ${t:-0}))
    done
    echo "$total"
}

# ctx_switches pid: voluntary and involuntary context switches of the process's live threads, summed.
ctx_switches() {
    cat /proc/"$1"/task/*/status 2> /dev/null | awk '$1 ~ /ctxt_switches:$/ { n += $2 } END { print n + 0 }'
}

# rss_kb pid: VmRSS in KiB.
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# fds pid: open file descriptors of a process.
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2> /dev/null | wc -l; }

# free_port var: a TCP port in 20000-31999 (below the ephemeral range) that nothing uses, into var.
_TAKEN_PORTS=" "
free_port() {
    local var=$1 p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        if [[ "$_TAKEN_PORTS" != *" $p "* ]] && [[ -z "$(ss -Htan "( sport = :$p or dport = :$p )")" ]]; then
            _TAKEN_PORTS+="$p "
            printf -v "$var" %d "$p"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}
