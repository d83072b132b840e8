package io.ambit.waypoint.conformance.attack;

import io.ambit.waypoint.testing.Processes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The attack tools these tests run as real peers, and what their reports say. */
final class AttackTools {
    private AttackTools() {}

    /**
     * Fails (does not skip) when {@code tool} is missing: CI installs it (Debian package {@code pkg}), so a
     * missing tool is a broken environment, never a pass.
     */
    static void require(String tool, String pkg) {
        if (!Processes.available(tool)) {
            throw new AssertionError(tool + " is not on the PATH (expected: Debian package " + pkg
                    + ", apt-get install -y --no-install-recommends " + pkg + ")");
        }
    }

    /** {@code http://host:port} of a local port. */
    static String base(InetSocketAddress port) {
        return "http://" + port.getAddress().getHostAddress() + ":" + port.getPort();
    }

    /** One line of a wordlist shipped next to these tests (comments and blank lines dropped). */
    static List<String> wordlist(String name) {
        try (InputStream in = AttackTools.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new AssertionError("test resource " + name + " is missing");
            }
            List<String> out = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1)) {
                if (!line.isEmpty() && !line.startsWith("#!")) {
                    out.add(line);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code lines} to a file for a tool to read. */
    static Path writeList(Path dir, String name, List<String> lines) throws IOException {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }
}
