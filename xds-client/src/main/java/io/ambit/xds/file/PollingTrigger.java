package io.ambit.xds.file;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls on one scheduled daemon thread. Polling rather than a WatchService: a WatchService on the
 * directory misses edits through symlinks (Kubernetes ConfigMap mounts swap a {@code ..data} link) and
 * is polled anyway on some platforms; a stat per second costs nothing.
 */
final class PollingTrigger implements ChangeTrigger {
    private static final Logger log = LoggerFactory.getLogger(PollingTrigger.class);

    private final Duration interval;
    private final ScheduledExecutorService thread;

    PollingTrigger(Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("poll interval " + interval + " (expected: > 0)");
        }
        this.interval = interval;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "ambit-mesh-file");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void start(Runnable check) {
        long ms = interval.toMillis();
        thread.scheduleWithFixedDelay(
                () -> {
                    try {
                        check.run();
                    } catch (RuntimeException e) {
                        // a failed check must not cancel the schedule: the next edit may fix the file
                        log.error("mesh file check failed", e);
                    }
                },
                ms,
                ms,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
