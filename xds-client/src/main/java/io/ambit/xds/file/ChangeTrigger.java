package io.ambit.xds.file;

import java.time.Duration;

/**
 * Tells a {@link LocalFileSource} when to look at its file again. Production polls the file's
 * modification time and size; tests fire by hand, so they need no sleeps.
 */
public interface ChangeTrigger extends AutoCloseable {
    /**
     * Starts calling {@code check} on one control thread whenever the file may have changed; calls never
     * overlap.
     */
    void start(Runnable check);

    /** Stops calling; idempotent. */
    @Override
    void close();

    /** Polls every {@code interval} on a daemon thread named {@code ambit-mesh-file}. */
    static ChangeTrigger polling(Duration interval) {
        return new PollingTrigger(interval);
    }
}
