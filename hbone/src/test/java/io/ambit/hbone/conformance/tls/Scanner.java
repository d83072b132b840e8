package io.ambit.hbone.conformance.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real TLS tool run as a process with a time limit: its exit code and merged output. A tool CI is expected
 * to have is required, not assumed: a missing one fails the test with the Debian package to install.
 */
final class Scanner {
    /** What one run printed and how it ended. */
    record Run(int exit, String out) {}

    private Scanner() {}

    /** Fails unless {@code executable} exists, naming the Debian package that provides it. */
    static void require(String executable, String debianPackage) {
        assertThat(Files.isExecutable(Path.of(executable)))
                .as(executable + " is missing: install the Debian package " + debianPackage + " (CI installs it)")
                .isTrue();
    }

    /**
     * Runs {@code command} with stdin closed and waits at most {@code limit}; past it, the process and what it
     * started are destroyed and the test fails with the output so far.
     */
    static Run run(Duration limit, List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError(command.getFirst() + " did not finish within " + limit + "; output so far:\n"
                    + out.getNow("(none)"));
        }
        return new Run(p.exitValue(), out.get(10, TimeUnit.SECONDS));
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(output unreadable: " + e + ")";
        }
    }
}
