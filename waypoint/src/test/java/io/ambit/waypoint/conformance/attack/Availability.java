package io.ambit.waypoint.conformance.attack;

import io.ambit.waypoint.testing.Processes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A legitimate client that keeps calling while an attack runs: a real curl, one request after another
 * with a bounded {@code --max-time}, on a connection of its own. What it checks is availability (every call
 * answered 200), never how fast.
 */
final class Availability implements AutoCloseable {
    private static final int MAX_CALLS = 400;

    private final List<String> results = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean stop;

    private Availability(String url) {
        thread = Thread.ofVirtual().name("legit-curl").start(() -> {
            for (int i = 0; i < MAX_CALLS && !stop; i++) {
                try {
                    var r = Processes.run(
                            List.of("curl", "-sS", "-o", "/dev/null", "--max-time", "5", "-w", "%{http_code}", url),
                            Duration.ofSeconds(20));
                    results.add(
                            r.exit() == 0
                                    ? r.out().trim()
                                    : "curl exit " + r.exit() + ": " + r.err().trim());
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception | AssertionError e) {
                    results.add("failed: " + e);
                }
            }
        });
    }

    /** Starts calling {@code path} through {@code port}. */
    static Availability of(InetSocketAddress port, String path) {
        return new Availability(AttackTools.base(port) + path);
    }

    /** Stops after the call in progress (bounded by curl's own limit) and returns every result. */
    List<String> stop() throws InterruptedException {
        stop = true;
        if (!thread.join(Duration.ofSeconds(30))) {
            thread.interrupt();
        }
        return List.copyOf(results);
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** Waits (bounded) until at least {@code n} calls finished, so the attack is known to overlap them. */
    void awaitCalls(int n, Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (results.size() < n && System.nanoTime() < end) {
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }
}
