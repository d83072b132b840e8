package io.ambit.waypoint.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.waypoint.testing.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scenario process the test talks to while it runs: its stdout lines are awaited (bounded by
 * {@link Await#TIMEOUT} each), lines are sent to its stdin, and its last line is the JSON result. Closing it
 * kills the process by its own handle if it is still running.
 */
final class Interactive implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder seen = new StringBuilder();

    private Interactive(Process process) {
        this.process = process;
        Thread.ofVirtual().start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
    }

    static Interactive start(List<String> command) throws IOException {
        return new Interactive(new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start());
    }

    /** Waits for the line {@code expected}, skipping others. */
    void awaitLine(String expected) throws InterruptedException {
        long deadline = System.nanoTime() + Await.TIMEOUT.toNanos();
        for (String line; ; ) {
            line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("no line \"" + expected + "\" within " + Await.TIMEOUT + "; saw: " + seen);
            }
            seen.append(line).append('\n');
            if (line.equals(expected)) {
                return;
            }
        }
    }

    void send(String line) throws IOException {
        process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    /** The next line, parsed as the scenario's JSON result, once the process exited with 0. */
    JsonNode result() throws Exception {
        String line = lines.poll(Await.TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        if (line == null) {
            throw new AssertionError("no result within " + Await.TIMEOUT + "; saw: " + seen);
        }
        if (!process.waitFor(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
            throw new AssertionError("the scenario did not exit cleanly; saw: " + seen + line);
        }
        return JSON.readTree(line);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
