package io.ambit.waypoint.testing;

import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in tests: bounded, polling a condition; never a bare sleep before an assertion. */
public final class Await {
    public static final Duration TIMEOUT = Duration.ofSeconds(20);

    private Await() {}

    public static <T> T get(Future<T> future) throws Exception {
        return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Until {@code condition} holds (checked every 10 ms), at most {@link #TIMEOUT}. */
    public static void until(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + TIMEOUT + ": " + what);
            }
            Thread.sleep(10);
        }
    }
}
