package io.ambit.bench.ztunnel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The requests of an {@code rr} run slower than a threshold, with when they were due on the wall clock:
 * to line the tail up against GC and safepoint logs ({@code -Xlog:gc,safepoint::time}) of the proxies.
 * At most {@link #MAX} are kept (a run that is slow throughout says so in its percentiles already).
 */
final class SlowRequests {
    static final int MAX = 100_000;

    private final long thresholdNanos;
    // the wall clock at one System.nanoTime() reading: converts "due" (nanoTime) to epoch microseconds
    private final long epochMicrosAtOrigin = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
    private final long nanoOrigin = System.nanoTime();
    private final List<long[]> slow = new ArrayList<>();

    /** @param thresholdNanos 0: keep nothing */
    SlowRequests(long thresholdNanos) {
        this.thresholdNanos = thresholdNanos;
    }

    /** A finished request that was due at {@code due} (nanoTime) and took {@code latencyNanos} from then. */
    void offer(long due, long latencyNanos, int connection) {
        if (thresholdNanos == 0 || latencyNanos <= thresholdNanos) {
            return;
        }
        synchronized (slow) {
            if (slow.size() < MAX) {
                slow.add(new long[] {epochMicrosAtOrigin + (due - nanoOrigin) / 1000, latencyNanos / 1000, connection});
            }
        }
    }

    /** One line per slow request, "due_epoch_us latency_us connection", in the order they were due. */
    void write(Path file) throws IOException {
        var lines = new ArrayList<String>();
        synchronized (slow) {
            slow.sort((a, b) -> Long.compare(a[0], b[0]));
            for (long[] r : slow) {
                lines.add(r[0] + " " + r[1] + " " + r[2]);
            }
        }
        Files.write(file, lines);
    }
}
