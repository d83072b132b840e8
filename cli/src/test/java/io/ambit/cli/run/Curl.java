package io.ambit.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real {@code curl} as an application of the mesh: through its workload's ztunnel (SOCKS5), with
 * {@code -i} so the status line, every header line (repeats kept) and the body come back.
 */
final class Curl {
    /** One response: status, header lines in order (names lower-case), body. */
    record Response(int status, List<Map.Entry<String, String>> headers, String body) {
        /** Every value of a header. */
        List<String> all(String name) {
            return headers.stream()
                    .filter(e -> e.getKey().equals(name))
                    .map(Map.Entry::getValue)
                    .toList();
        }

        /** The first value, or null. */
        String header(String name) {
            var v = all(name);
            return v.isEmpty() ? null : v.getFirst();
        }
    }

    private Curl() {}

    /** Runs curl through {@code socks} (host:port) with extra arguments, the URL last. */
    static Response via(String socks, String... args) throws Exception {
        var command = new ArrayList<>(
                List.of("curl", "-s", "-i", "--max-time", "10", "--socks5-hostname", socks, "-H", "expect:"));
        command.addAll(List.of(args));
        var process = new ProcessBuilder(command).redirectErrorStream(false).start();
        byte[] out = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("curl ends").isTrue();
        assertThat(process.exitValue()).as("curl %s exit code", command).isZero();
        return parse(new String(out, StandardCharsets.ISO_8859_1));
    }

    static Response parse(String text) {
        int end = text.indexOf("\r\n\r\n");
        assertThat(end).as("a response head in %s", text).isPositive();
        String[] lines = text.substring(0, end).split("\r\n");
        // "HTTP/1.1 200 OK" or "HTTP/2 200"
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        var headers = new ArrayList<Map.Entry<String, String>>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.add(Map.entry(
                    lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).trim()));
        }
        String body = new String(text.substring(end + 4).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        return new Response(status, List.copyOf(headers), body);
    }
}
