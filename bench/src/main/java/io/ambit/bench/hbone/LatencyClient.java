package io.ambit.bench.hbone;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;

/**
 * Request/response round trips on one connection to an echo server (directly or through a proxy): write
 * {@code --size} bytes (64), read them back, repeat. The first {@code --warmup} round trips are not counted;
 * then up to {@code --count} are timed, stopping early after {@code --max-seconds}. Prints {@code latency
 * rtts=N p50_us=… p90_us=… p99_us=… mean_us=… max_us=…}; exits 1 if the echo differs or the connection fails.
 *
 * <p>{@code java -cp bench/target/ambit-bench.jar io.ambit.bench.hbone.LatencyClient --port P [--count
 * 20000] [--warmup 2000] [--size 64] [--max-seconds 30]}
 */
public final class LatencyClient {
    private LatencyClient() {}

    /** Round-trip times of {@code count} exchanges after {@code warmup}, within {@code maxNanos}. */
    static Percentiles measure(int port, int count, int warmup, int size, long maxNanos) throws IOException {
        byte[] request = new byte[size];
        Arrays.fill(request, (byte) 'x');
        byte[] response = new byte[size];
        long[] samples = new long[count];
        int timed = 0;
        long deadline = System.nanoTime() + maxNanos;
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout(5_000);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < warmup + count && System.nanoTime() < deadline; i++) {
                long start = System.nanoTime();
                out.write(request);
                if (in.readNBytes(response, 0, size) != size || !Arrays.equals(request, response)) {
                    throw new IOException("round trip " + i + ": the echo differs from what was sent");
                }
                long elapsed = System.nanoTime() - start;
                if (i >= warmup) {
                    samples[timed++] = elapsed;
                }
            }
        }
        return Percentiles.ofNanos(samples, timed);
    }

    public static void main(String[] args) throws Exception {
        CliArgs.run("LatencyClient --port PORT [--count N] [--warmup N] [--size BYTES] [--max-seconds S]", () -> {
            CliArgs a = CliArgs.parse(args, Set.of("--port", "--count", "--warmup", "--size", "--max-seconds"));
            int port = (int) a.number("--port", -1, 1, 65535);
            int count = (int) a.number("--count", 20_000, 1, 10_000_000);
            int warmup = (int) a.number("--warmup", 2_000, 0, 10_000_000);
            int size = (int) a.number("--size", 64, 1, 1 << 20);
            long seconds = a.number("--max-seconds", 30, 1, 3600);
            Percentiles p;
            try {
                p = measure(port, count, warmup, size, seconds * 1_000_000_000L);
            } catch (IOException e) {
                System.out.println("latency error=" + e.toString().replace(' ', '_'));
                System.exit(1);
                return;
            }
            System.out.println("latency rtts=" + p.count() + " " + p.format());
        });
    }
}
