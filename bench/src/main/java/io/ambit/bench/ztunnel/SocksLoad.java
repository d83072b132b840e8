package io.ambit.bench.ztunnel;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The ztunnel benchmark's load generator: the same traffic directly to a target or through a SOCKS5 proxy
 * (ztunnel's outbound listener). Each mode prints one line of {@code key=value} pairs for
 * {@code bench/run-ztunnel-bench.sh}. Every mode is bounded in time and count.
 *
 * <pre>
 *   serve   --bind IP --echo-port P --sink-port P [--http-port P --body B] [--max-seconds S]
 *                                                    the targets ({@link Targets})
 *   bulk    --target IP:PORT(sink) [--socks IP:PORT] --seconds S            one stream, bytes/s
 *   rr      --target IP:PORT [--socks ..] --rate R --seconds S [--connections C] [--size B] [--http HOST]
 *                                        open-loop requests, HdrHistogram: B-byte round trips to the echo
 *                                        server, or with --http keep-alive HTTP/1.1 GETs to the HTTP server;
 *                                        [--slow-us U --slow-log FILE]: each request slower than U µs as a
 *                                        line "due_epoch_us latency_us connection" (where the tail comes from)
 *   conn    --target IP:PORT(echo) [--socks ..] --seconds S [--concurrency C]   new connections per second
 *   hold    --target IP:PORT(echo) [--socks ..] --count N --hold-seconds S   N idle connections, then holds them
 *   forward --listen IP:PORT --target IP:PORT [--socks ..] [--max-seconds S]
 *                                        a TCP port relaying each connection to the target (through the
 *                                        proxy): for tools that cannot speak SOCKS5 (iperf3, fortio)
 * </pre>
 */
public final class SocksLoad {
    private static final int TIMEOUT_MILLIS = 10_000;

    private SocksLoad() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage("missing mode");
        }
        var a = Args.parse(args);
        try {
            switch (args[0]) {
                case "serve" ->
                    Targets.serve(
                            InetAddress.getByName(a.text("--bind", "127.0.0.1")),
                            (int) a.number("--echo-port", -1, 1, 65535),
                            (int) a.number("--sink-port", -1, 1, 65535),
                            (int) a.number("--http-port", 0, 0, 65535),
                            (int) a.number("--body", 64, 0, Http1.MAX_BODY),
                            a.number("--max-seconds", 7200, 1, 86_400));
                case "bulk" -> bulk(a.address("--target"), a.socks(), a.number("--seconds", 10, 1, 600));
                case "rr" ->
                    rr(
                            a.address("--target"),
                            a.socks(),
                            (int) a.number("--rate", 1000, 1, 100_000),
                            a.number("--seconds", 10, 1, 600),
                            (int) a.number("--connections", 4, 1, 256),
                            (int) a.number("--size", 64, 1, 65_536),
                            a.text("--http", null),
                            a.number("--slow-us", 0, 0, 60_000_000),
                            a.text("--slow-log", null));
                case "conn" ->
                    conn(a.address("--target"), a.socks(), a.number("--seconds", 5, 1, 600), (int)
                            a.number("--concurrency", 4, 1, 256));
                case "hold" ->
                    hold(
                            a.address("--target"),
                            a.socks(),
                            (int) a.number("--count", 1000, 1, 50_000),
                            a.number("--hold-seconds", 30, 1, 3600));
                case "forward" ->
                    Forwarder.serve(
                            a.address("--listen"),
                            a.address("--target"),
                            a.socks(),
                            a.number("--max-seconds", 7200, 1, 86_400));
                default -> usage("unknown mode " + args[0]);
            }
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
        }
    }

    private static void usage(String problem) {
        System.err.println("SocksLoad: " + problem
                + " (expected: serve|bulk|rr|conn|hold|forward with --name value options; see the class comment)");
        System.exit(2);
    }

    // --- bulk: one stream of 64 KiB frames for a fixed time; the sink says how many bytes arrived ----------
    private static void bulk(InetSocketAddress target, InetSocketAddress socks, long seconds) throws IOException {
        byte[] frame = new byte[Targets.FRAME];
        long frames = 0;
        long start;
        long end;
        long received;
        try (Socket s = Socks5.connect(socks, target, TIMEOUT_MILLIS)) {
            s.setSoTimeout(TIMEOUT_MILLIS);
            OutputStream out = s.getOutputStream();
            start = System.nanoTime();
            long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
            // bounded twice: by time, and by a count no loopback link reaches in 600 s (10 GB/s)
            long maxFrames = seconds * 160_000L;
            while (System.nanoTime() < deadline && frames < maxFrames) {
                out.write(frame);
                frames++;
            }
            frame[0] = 1; // the last frame
            out.write(frame);
            out.flush();
            received = new DataInputStream(s.getInputStream()).readLong();
            end = System.nanoTime();
        }
        double secs = (end - start) / 1e9;
        System.out.printf(
                "bulk bytes=%d seconds=%.3f bytes_per_second=%.0f gbit_per_second=%.3f%n",
                received, secs, received / secs, received * 8 / secs / 1e9);
    }

    // --- rr: open loop; request i of a connection is due at start + i * interval, and its latency is
    // measured from when it was due (not when it was sent), so a stalled sender does not hide the stall.
    // Echo mode: size-byte round trips. HTTP mode: keep-alive GETs, pipelined when the answers fall behind
    // (the server answers in order), each timed until its whole response is read -----------------------
    private static void rr(
            InetSocketAddress target,
            InetSocketAddress socks,
            int rate,
            long seconds,
            int connections,
            int size,
            String httpHost,
            long slowMicros,
            String slowLog)
            throws Exception {
        if (slowMicros > 0 && slowLog == null) {
            throw new IllegalArgumentException("--slow-us: needs --slow-log FILE (where the slow requests go)");
        }
        var slow = new SlowRequests(slowLog == null ? 0 : TimeUnit.MICROSECONDS.toNanos(slowMicros));
        byte[] request = httpHost == null ? new byte[size] : Http1.request(httpHost);
        long perConnection = Math.max(1, rate * seconds / connections);
        long interval = TimeUnit.SECONDS.toNanos(1) * connections / rate;
        var sockets = new ArrayList<Socket>();
        var histograms = new ArrayList<Histogram>();
        var threads = new ArrayList<Thread>();
        var errors = new AtomicLong();
        try {
            for (int c = 0; c < connections; c++) {
                sockets.add(Socks5.connect(socks, target, TIMEOUT_MILLIS));
            }
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            for (int c = 0; c < connections; c++) {
                int c_ = c;
                Socket s = sockets.get(c);
                s.setSoTimeout(TIMEOUT_MILLIS);
                var h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
                histograms.add(h);
                // connections start staggered over one interval, so that the rate is even
                long first = start + interval * c / connections;
                threads.add(Thread.ofPlatform()
                        .name("rr-send-" + c)
                        .start(() -> send(s, first, interval, perConnection, request, errors)));
                threads.add(Thread.ofPlatform()
                        .name("rr-recv-" + c)
                        .start(() -> receive(
                                s, first, interval, perConnection, size, httpHost != null, h, errors, slow, c_)));
            }
            long joinBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 30);
            for (var t : threads) {
                long left = joinBy - System.nanoTime();
                if (left <= 0 || !t.join(java.time.Duration.ofNanos(left))) {
                    errors.incrementAndGet();
                }
            }
        } finally {
            for (var s : sockets) {
                s.close(); // also ends a receiver still waiting
            }
        }
        var all = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        histograms.forEach(all::add);
        if (slowLog != null) {
            slow.write(java.nio.file.Path.of(slowLog));
        }
        System.out.printf(
                "rr mode=%s requests=%d errors=%d rate=%d connections=%d size=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f"
                        + " p999_us=%.1f max_us=%.1f%n",
                httpHost == null ? "echo" : "http",
                all.getTotalCount(),
                errors.get(),
                rate,
                connections,
                httpHost == null ? size : request.length,
                all.getValueAtPercentile(50) / 1e3,
                all.getValueAtPercentile(90) / 1e3,
                all.getValueAtPercentile(99) / 1e3,
                all.getValueAtPercentile(99.9) / 1e3,
                all.getMaxValue() / 1e3);
    }

    private static void send(Socket s, long first, long interval, long count, byte[] request, AtomicLong errors) {
        try {
            OutputStream out = s.getOutputStream();
            for (long i = 0; i < count; i++) {
                long due = first + i * interval;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                out.write(request);
                out.flush();
            }
        } catch (IOException e) {
            errors.incrementAndGet();
        }
    }

    private static void receive(
            Socket s,
            long first,
            long interval,
            long count,
            int size,
            boolean http,
            Histogram h,
            AtomicLong errors,
            SlowRequests slow,
            int connection) {
        byte[] response = new byte[http ? Http1.MAX_HEAD : size];
        try {
            InputStream in = http ? new java.io.BufferedInputStream(s.getInputStream(), 8192) : s.getInputStream();
            for (long i = 0; i < count; i++) {
                if (http) {
                    int status = Http1.readResponse(in, response);
                    if (status != 200) {
                        errors.incrementAndGet();
                    }
                } else if (in.readNBytes(response, 0, size) < size) {
                    errors.incrementAndGet();
                    return;
                }
                long now = System.nanoTime();
                long due = first + i * interval;
                h.recordValue(Math.max(0, now - due));
                slow.offer(due, now - due, connection);
            }
        } catch (IOException e) {
            errors.incrementAndGet();
        }
    }

    // --- conn: each client loops connect (+ SOCKS5 handshake), one 64-byte round trip, close ---------------
    private static void conn(InetSocketAddress target, InetSocketAddress socks, long seconds, int concurrency)
            throws Exception {
        var done = new AtomicLong();
        var errors = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
        long maxPerClient = seconds * 50_000;
        var threads = new ArrayList<Thread>();
        for (int c = 0; c < concurrency; c++) {
            threads.add(Thread.ofPlatform().name("conn-" + c).start(() -> {
                byte[] buf = new byte[64];
                for (long i = 0; i < maxPerClient && System.nanoTime() < deadline; i++) {
                    try (Socket s = Socks5.connect(socks, target, TIMEOUT_MILLIS)) {
                        s.setSoTimeout(TIMEOUT_MILLIS);
                        s.getOutputStream().write(buf);
                        if (s.getInputStream().readNBytes(buf, 0, 64) != 64) {
                            throw new IOException("short echo");
                        }
                        done.incrementAndGet();
                    } catch (IOException e) {
                        if (errors.incrementAndGet() == 1) {
                            System.err.println("first error: " + e);
                        }
                    }
                }
            }));
        }
        for (var t : threads) {
            t.join(java.time.Duration.ofSeconds(seconds + 30));
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf(
                "conn connections=%d errors=%d seconds=%.3f per_second=%.1f%n",
                done.get(), errors.get(), secs, done.get() / secs);
    }

    // --- hold: N connections, each proven with one round trip, then idle until hold-seconds pass -----------
    private static void hold(InetSocketAddress target, InetSocketAddress socks, int count, long holdSeconds)
            throws Exception {
        var sockets = new ArrayList<Socket>(count);
        long errors = 0;
        byte[] buf = new byte[16];
        try {
            for (int i = 0; i < count; i++) {
                try {
                    Socket s = Socks5.connect(socks, target, TIMEOUT_MILLIS);
                    sockets.add(s);
                    s.setSoTimeout(TIMEOUT_MILLIS);
                    s.getOutputStream().write(buf);
                    if (s.getInputStream().readNBytes(buf, 0, buf.length) != buf.length) {
                        errors++;
                    }
                } catch (IOException e) {
                    if (++errors == 1) {
                        System.err.println("first error: " + e);
                    }
                    if (errors > 100) {
                        break;
                    }
                }
            }
            // one write, so that a reader polling the log never sees half the line
            System.out.print(String.format("hold opened=%d errors=%d%n", sockets.size(), errors));
            System.out.flush();
            Thread.sleep(TimeUnit.SECONDS.toMillis(holdSeconds));
        } finally {
            for (var s : sockets) {
                s.close();
            }
        }
    }

    /** {@code --name value} pairs after the mode. */
    private record Args(Map<String, String> values) {
        static Args parse(String[] args) {
            var values = new HashMap<String, String>();
            for (int i = 1; i < args.length; i += 2) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("argument " + args[i] + " (expected: --name value)");
                }
                values.put(args[i], args[i + 1]);
            }
            return new Args(values);
        }

        String text(String name, String fallback) {
            return values.getOrDefault(name, fallback);
        }

        long number(String name, long fallback, long min, long max) {
            String text = values.get(name);
            if (text == null) {
                if (fallback < min) {
                    throw new IllegalArgumentException(name + ": missing (expected " + min + " to " + max + ")");
                }
                return fallback;
            }
            long v;
            try {
                v = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " " + text + " (expected a number)");
            }
            if (v < min || v > max) {
                throw new IllegalArgumentException(name + " " + v + " (expected " + min + " to " + max + ")");
            }
            return v;
        }

        InetSocketAddress address(String name) {
            String text = values.get(name);
            if (text == null) {
                throw new IllegalArgumentException(name + ": missing (expected IP:PORT)");
            }
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException(name + " " + text + " (expected IP:PORT)");
            }
            return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
        }

        InetSocketAddress socks() {
            return values.containsKey("--socks") ? address("--socks") : null;
        }
    }
}
