package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Runs the real {@code dig} (Debian bind9-dnsutils) against a server and reads its answer. Fails, never
 * skips, when dig is missing: CI installs it.
 */
record Dig(String status, String flags, List<String> answers, List<String> authority, String output) {
    private static final Pattern STATUS = Pattern.compile("status: (\\w+)");
    private static final Pattern FLAGS = Pattern.compile(";; flags: ([a-z ]*);");

    static Path binary() {
        for (var dir : List.of("/usr/bin", "/usr/local/bin", "/bin")) {
            var p = Path.of(dir, "dig");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError("dig not found (install Debian package bind9-dnsutils)");
    }

    /** {@code dig @server -p port name type +tries=1 +timeout=5 extra...}, waiting at most 30 s. */
    static Dig query(String server, int port, String name, String type, String... extra) throws Exception {
        var cmd = new ArrayList<>(List.of(
                binary().toString(), "@" + server, "-p", String.valueOf(port), name, type, "+tries=1", "+timeout=5"));
        cmd.addAll(List.of(extra));
        return run(cmd);
    }

    static Dig run(List<String> cmd) throws Exception {
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean done = p.waitFor(30, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(done).as("dig finished: %s", out).isTrue();
        var m = STATUS.matcher(out);
        var f = FLAGS.matcher(out);
        return new Dig(
                m.find() ? m.group(1) : "none",
                f.find() ? f.group(1) : "",
                section(out, ";; ANSWER SECTION:"),
                section(out, ";; AUTHORITY SECTION:"),
                out);
    }

    /** The records of a section as whitespace-normalised lines: {@code name ttl class type data}. */
    private static List<String> section(String out, String header) {
        var lines = out.lines().toList();
        var records = new ArrayList<String>();
        int i = lines.indexOf(header);
        if (i < 0) {
            return records;
        }
        for (int j = i + 1; j < lines.size() && !lines.get(j).isBlank(); j++) {
            records.add(lines.get(j).strip().replaceAll("\\s+", " "));
        }
        return records;
    }

    /** The data of the answer records of {@code type}. */
    List<String> data(String type) {
        var out = new ArrayList<String>();
        for (var a : answers) {
            var parts = a.split(" ", 5);
            if (parts.length == 5 && parts[3].equals(type)) {
                out.add(parts[4]);
            }
        }
        return out;
    }
}
