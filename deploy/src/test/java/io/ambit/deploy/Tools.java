package io.ambit.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real tools the deploy files are checked with (promtool, kubectl, ...), each with a deadline. */
public final class Tools {
    private Tools() {}

    /** What a finished command left: its exit status and its stdout and stderr, interleaved. */
    public record Result(int exit, String output) {
        public boolean ok() {
            return exit == 0;
        }
    }

    /**
     * The absolute path of {@code binary} on PATH.
     *
     * @throws AssertionError naming the Debian package to install when it is missing: these tests check the
     *     files with the real tools, so a missing tool is a failure, not a skip
     */
    public static Path require(String binary, String debianPackage) {
        return find(binary)
                .orElseThrow(() -> new AssertionError(
                        binary + " not found on PATH (expected: apt-get install -y " + debianPackage + ")"));
    }

    /** {@code binary} on PATH, if there. */
    public static java.util.Optional<Path> find(String binary) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            Path candidate = Path.of(dir, binary);
            if (Files.isExecutable(candidate)) {
                return java.util.Optional.of(candidate);
            }
        }
        return java.util.Optional.empty();
    }

    /** Runs {@code command} in {@code dir}, killing it after {@code limit}. */
    public static Result run(Path dir, Duration limit, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().close();
        // read on another thread so a chatty tool cannot block on a full pipe while we wait for it
        var out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.append("(output lost: ").append(e).append(')');
            }
        });
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            reader.join(Duration.ofSeconds(5));
            throw new AssertionError(command + " did not finish within " + limit + "; output so far:\n" + out);
        }
        reader.join(Duration.ofSeconds(5));
        return new Result(p.exitValue(), out.toString());
    }
}
