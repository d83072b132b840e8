package io.ambit.cli.process;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/** How every serving command ends: it blocks its caller until the JVM shuts down (Ctrl-C, SIGTERM). */
public final class UntilShutdown {
    private UntilShutdown() {}

    /**
     * Blocks until the JVM shuts down, which runs {@code stop} (in a shutdown hook, so it finishes before the
     * JVM exits), or until {@code ended} completes (e.g. after admin {@code POST /quitquitquit}).
     *
     * @param ended null when only a shutdown ends it
     */
    public static void await(Runnable stop, CompletableFuture<?> ended) {
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.run();
            stopped.countDown();
        }));
        if (ended != null) {
            ended.thenRun(stopped::countDown);
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
