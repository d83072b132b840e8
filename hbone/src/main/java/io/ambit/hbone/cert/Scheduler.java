package io.ambit.hbone.cert;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task after a delay. The certificate manager and the revocation checker take one so that tests can
 * drive them with a fake clock and no sleeps; production wraps a {@link ScheduledExecutorService}. Tasks
 * must be short: they only enqueue work.
 */
@FunctionalInterface
public interface Scheduler {
    /** Runs {@code task} once, {@code delay} from now (at once when the delay is zero or negative). */
    Cancellable schedule(Duration delay, Runnable task);

    /** A scheduled task that may still be cancelled; cancelling after it ran does nothing. */
    @FunctionalInterface
    interface Cancellable {
        void cancel();
    }

    /** A scheduler on {@code executor}; cancelling does not interrupt a running task. */
    static Scheduler of(ScheduledExecutorService executor) {
        return (delay, task) -> {
            var future = executor.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
            return () -> future.cancel(false);
        };
    }
}
