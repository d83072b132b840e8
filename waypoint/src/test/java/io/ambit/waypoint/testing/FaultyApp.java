package io.ambit.waypoint.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The endpoint app {@code faulty-app.js} (Node: HTTP/1.1 and HTTP/2 on one port) as a running process: it
 * cuts responses, refuses streams and sends GOAWAY on request, and reports every connection, FIN, reset,
 * GOAWAY received and request as one JSON line, collected here in order. Closing it closes its stdin (it
 * exits) and, if it is still running after that, kills it by its own handle.
 */
public final class FaultyApp implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final List<JsonNode> events = new CopyOnWriteArrayList<>();
    private final StringBuilder stderr = new StringBuilder();

    private FaultyApp(Process process) {
        this.process = process;
        Thread.ofVirtual().start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    try {
                        events.add(JSON.readTree(line));
                    } catch (IOException notJson) {
                        synchronized (stderr) {
                            stderr.append(line).append('\n');
                        }
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        Thread.ofVirtual().start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (stderr) {
                        stderr.append(line).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
    }

    /** Starts the app on {@code port} of every address in {@code on}; returns once it listens on all. */
    public static FaultyApp start(int port, InetAddress... on) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                "node",
                Path.of("src/test/resources/faulty-app.js").toAbsolutePath().toString(),
                Integer.toString(port)));
        for (InetAddress a : on) {
            command.add(a.getHostAddress());
        }
        FaultyApp app = new FaultyApp(new ProcessBuilder(command).start());
        try {
            app.await(e -> e.path("ev").asText().equals("listening"), "the app listens");
        } catch (AssertionError | Exception e) {
            app.close();
            throw e;
        }
        return app;
    }

    /** Every event so far, in order. */
    public List<JsonNode> events() {
        return List.copyOf(events);
    }

    /** Events of type {@code ev} so far. */
    public List<JsonNode> events(String ev) {
        return events.stream().filter(e -> e.path("ev").asText().equals(ev)).toList();
    }

    /** Requests the app saw for {@code path} so far (refused ones included). */
    public List<JsonNode> requests(String path) {
        return events("request").stream()
                .filter(e -> e.path("path").asText().equals(path))
                .toList();
    }

    /** The first event matching, waiting for it (bounded by {@link Await#TIMEOUT}). */
    public JsonNode await(Predicate<JsonNode> match, String what) throws InterruptedException {
        JsonNode[] found = new JsonNode[1];
        Await.until(
                () -> {
                    for (JsonNode e : events) {
                        if (match.test(e)) {
                            found[0] = e;
                            return true;
                        }
                    }
                    if (!process.isAlive()) {
                        throw new AssertionError("the app exited (" + process.exitValue() + "): " + this);
                    }
                    return false;
                },
                what + "; events: " + this);
        return found[0];
    }

    @Override
    public String toString() {
        synchronized (stderr) {
            return events + (stderr.isEmpty() ? "" : "\nstderr: " + stderr);
        }
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close(); // the app exits when its stdin ends
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
