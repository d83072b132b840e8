package io.ambit.bench.hbone;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * New connections per second to an echo server (directly or through a proxy): each of {@code --concurrency}
 * threads connects, sends one byte, reads it back and closes, again and again for {@code --seconds}, or
 * until {@code --max} connections or {@code --max-errors} failures. A connection counts once its byte came
 * back, so a proxy that accepts but cannot reach the target does not score. Prints {@code connrate
 * connections=N errors=E seconds=T per_second=R p50_us=… p99_us=…} (times per connection, connect to close).
 *
 * <p>{@code java -cp bench/target/ambit-bench.jar io.ambit.bench.hbone.ConnectionRateClient --port P
 * [--seconds 10] [--concurrency 4] [--max 1000000] [--max-errors 100]}
 */
public final class ConnectionRateClient {
    private static final int SAMPLES_PER_THREAD = 200_000;

    private ConnectionRateClient() {}

    /** The outcome of a run. */
    record Result(long connections, long errors, double seconds, Percentiles perConnection, String firstError) {
        double perSecond() {
            return connections / seconds;
        }

        String format() {
            return String.format(
                    Locale.ROOT,
                    "connrate connections=%d errors=%d seconds=%.2f per_second=%.0f %s%s",
                    connections,
                    errors,
                    seconds,
                    perSecond(),
                    perConnection.format(),
                    firstError == null ? "" : " first_error=" + firstError.replace(' ', '_'));
        }
    }

    static Result measure(int port, long nanos, int concurrency, long max, long maxErrors) throws InterruptedException {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        AtomicLong connections = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        String[] firstError = new String[1];
        long[][] samples = new long[concurrency][SAMPLES_PER_THREAD];
        int[] sampled = new int[concurrency];
        long start = System.nanoTime();
        long deadline = start + nanos;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            int me = t;
            threads.add(Thread.ofPlatform().name("connrate-" + t).start(() -> {
                while (System.nanoTime() < deadline && connections.get() < max && errors.get() < maxErrors) {
                    long began = System.nanoTime();
                    try {
                        once(target);
                    } catch (IOException e) {
                        if (errors.incrementAndGet() == 1) {
                            synchronized (firstError) {
                                firstError[0] = e.toString();
                            }
                        }
                        continue;
                    }
                    connections.incrementAndGet();
                    if (sampled[me] < SAMPLES_PER_THREAD) {
                        samples[me][sampled[me]++] = System.nanoTime() - began;
                    }
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int total = 0;
        for (int n : sampled) {
            total += n;
        }
        long[] all = new long[total];
        int at = 0;
        for (int t = 0; t < concurrency; t++) {
            System.arraycopy(samples[t], 0, all, at, sampled[t]);
            at += sampled[t];
        }
        synchronized (firstError) {
            return new Result(connections.get(), errors.get(), seconds, Percentiles.ofNanos(all, total), firstError[0]);
        }
    }

    private static void once(InetSocketAddress target) throws IOException {
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(target, 5_000);
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write('x');
            InputStream in = socket.getInputStream();
            int b = in.read();
            if (b != 'x') {
                throw new IOException(b < 0 ? "closed before the echo" : "echo differs: " + b);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        CliArgs.run(
                "ConnectionRateClient --port PORT [--seconds T] [--concurrency C] [--max N] [--max-errors E]", () -> {
                    CliArgs a = CliArgs.parse(
                            args, Set.of("--port", "--seconds", "--concurrency", "--max", "--max-errors"));
                    int port = (int) a.number("--port", -1, 1, 65535);
                    long seconds = a.number("--seconds", 10, 1, 600);
                    int concurrency = (int) a.number("--concurrency", 4, 1, 256);
                    long max = a.number("--max", 1_000_000, 1, 100_000_000);
                    long maxErrors = a.number("--max-errors", 100, 1, 1_000_000);
                    Result r = measure(port, seconds * 1_000_000_000L, concurrency, max, maxErrors);
                    System.out.println(r.format());
                    if (r.connections() == 0) {
                        System.exit(1);
                    }
                });
    }
}
