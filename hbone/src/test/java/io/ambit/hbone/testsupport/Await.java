package io.ambit.hbone.testsupport;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in tests: on futures, with a timeout, never a bare sleep. */
public final class Await {
    public static final Duration TIMEOUT = Duration.ofSeconds(20);

    private Await() {}

    public static <T> T get(Future<T> future) throws Exception {
        return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    public static <T> T get(io.netty.util.concurrent.Future<T> future) throws Exception {
        if (!future.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new java.util.concurrent.TimeoutException("future not done within " + TIMEOUT);
        }
        if (!future.isSuccess()) {
            throw new java.util.concurrent.ExecutionException(future.cause());
        }
        return future.getNow();
    }

    /** The failure of a future that must fail. */
    public static Throwable failure(Future<?> future) throws Exception {
        try {
            future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure, got success");
    }

    /**
     * A future completing once {@code condition} holds, re-checked every few milliseconds on a daemon
     * timer, failing after {@link #TIMEOUT}. For state that has no event of its own.
     */
    public static void until(BooleanSupplier condition, String what) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        Runnable check = new Runnable() {
            @Override
            public void run() {
                if (condition.getAsBoolean()) {
                    done.complete(null);
                } else if (System.nanoTime() > deadline) {
                    done.completeExceptionally(new AssertionError("not within " + TIMEOUT + ": " + what));
                } else {
                    CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS).execute(this);
                }
            }
        };
        check.run();
        try {
            done.get(TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof AssertionError a) {
                throw a;
            }
            throw e;
        }
    }
}
