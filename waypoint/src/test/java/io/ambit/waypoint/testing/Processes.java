package io.ambit.waypoint.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real client (curl, nghttp, h2load, node) to completion, bounded in time; kills only what it started. */
public final class Processes {
    private Processes() {}

    /** What a finished process printed and returned. */
    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    /** Whether {@code executable} is on the PATH. */
    public static boolean available(String executable) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (new java.io.File(dir, executable).canExecute()) {
                return true;
            }
        }
        return false;
    }

    public static Result run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        return run(command, null, timeout);
    }

    /** Runs {@code command} with {@code stdin} (or none); kills it (by its own handle) after {@code timeout}. */
    public static Result run(List<String> command, byte[] stdin, Duration timeout)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).start();
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        Thread o = Thread.ofVirtual().start(() -> copy(p.getInputStream(), out));
        Thread e = Thread.ofVirtual().start(() -> copy(p.getErrorStream(), err));
        if (stdin != null) {
            p.getOutputStream().write(stdin);
        }
        p.getOutputStream().close();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            o.join(5000);
            e.join(5000);
            throw new AssertionError(command + " did not finish within " + timeout + "; out: "
                    + out.toString(StandardCharsets.UTF_8) + " err: " + err.toString(StandardCharsets.UTF_8));
        }
        o.join(5000);
        e.join(5000);
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        try (in) {
            in.transferTo(out);
        } catch (IOException ignored) {
            // the process ended
        }
    }
}
