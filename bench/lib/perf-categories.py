#!/usr/bin/env python3
"""Where a ztunnel's CPU goes, from `perf script -F comm,tid,ip,sym` of `perf record -g` samples.

    perf-categories.py perf-script.txt [thread-prefix]

Prints the share of samples by thread, the share of event-loop samples whose stack contains each of a
few named frames (inclusive: a sample counts for every category on its stack), and the top self frames.
Java frames are named when the JVM ran with -XX:+PreserveFramePointer and wrote /tmp/perf-PID.map
(jcmd PID Compiler.perfmap) before `perf script`; run-ztunnel-bench.sh PROFILE=perf does both.
"""
import collections
import sys

CATEGORIES = [
    ("io_uring_enter / epoll_wait (submit + wait)", ("Native.ioUringEnter", "epollWait", "epoll_wait")),
    ("  blocked waiting (scheduler)", ("io_cqring_wait", "ep_poll")),
    ("scheduler (__schedule, any cause)", ("__schedule",)),
    ("TCP send (incl. loopback receive side)", ("tcp_sendmsg",)),
    ("TCP receive", ("tcp_recvmsg",)),
    ("wake-up of another thread (eventfd_write)", ("eventfd_write",)),
    ("tasks from other threads (runAllTasks)", ("runAllTasks",)),
    ("TLS encrypt (SslHandler.wrap)", ("SslHandler.wrap",)),
    ("TLS decrypt (SslHandler.unwrap)", ("SslHandler.unwrap",)),
    ("HTTP/2 decode", ("Http2ConnectionHandler$FrameDecoder.decode",)),
    ("HTTP/2 encode / flow control", ("DefaultHttp2ConnectionEncoder", "DefaultHttp2RemoteFlowController")),
    ("relay (io.ambit.hbone.relay)", ("io.ambit.hbone.relay.",)),
    ("SOCKS5 handshake", ("Socks5Handshake",)),
    ("outbound flow", ("io.ambit.ztunnel.outbound.OutboundFlow",)),
    ("inbound handler", ("io.ambit.ztunnel.inbound.",)),
    ("HBONE pool", ("io.ambit.hbone.pool.",)),
    ("HBONE server (CONNECT)", ("io.ambit.hbone.server.",)),
    ("metrics (micrometer)", ("io.micrometer",)),
    ("access log", ("AccessLog", "logback")),
    ("buffer allocation (netty)", ("PoolingAllocator", "PooledByteBufAllocator", "AbstractByteBufAllocator")),
    ("leak detection (netty)", ("ResourceLeakDetector",)),
    ("exceptions (fillInStackTrace)", ("fill_in_stack_trace",)),
    ("connect / accept / close", ("tcp_v4_connect", "inet_csk_accept", "tcp_close", "__sys_connect")),
]


def stacks(path):
    cur = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if cur:
                    yield cur
                cur = None
            elif not line[0].isspace():
                cur = [line.split()[0]]
            elif cur is not None:
                parts = line.strip().split(None, 1)
                cur.append(parts[1] if len(parts) > 1 else parts[0])
    if cur:
        yield cur


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    prefix = sys.argv[2] if len(sys.argv) > 2 else "ambit-ztunnel"
    all_stacks = list(stacks(sys.argv[1]))
    if not all_stacks:
        sys.exit("no samples in " + sys.argv[1])
    by_comm = collections.Counter(s[0] for s in all_stacks)
    print(f"{len(all_stacks)} samples; by thread:")
    for comm, n in by_comm.most_common(8):
        print(f"  {100 * n / len(all_stacks):5.1f}%  {comm}")
    loops = [s for s in all_stacks if s[0].startswith(prefix)]
    if not loops:
        return
    print(f"\n{len(loops)} samples of threads {prefix}*; stacks containing (inclusive):")
    for name, patterns in CATEGORIES:
        n = sum(1 for s in loops if any(p in f for f in s[1:] for p in patterns))
        if n:
            print(f"  {100 * n / len(loops):5.1f}%  {name}")
    print("\ntop self frames:")
    for sym, n in collections.Counter(s[1] if len(s) > 1 else "?" for s in loops).most_common(25):
        print(f"  {100 * n / len(loops):5.1f}%  {sym[:140]}")


if __name__ == "__main__":
    main()
