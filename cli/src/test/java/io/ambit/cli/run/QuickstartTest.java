package io.ambit.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, {@code ./ambit run examples/quickstart.yaml}, answers every curl its comment
 * lists as the comment says: L4 allow and deny at the ztunnels, then, through the payments waypoint, the
 * article's payment policy with its numeric condition, a JWT-protected path (with the token the file ships, a
 * tampered one, an expired one) and a rate-limited service. Real curl through the workloads' SOCKS5 addresses;
 * the file is moved to 127.66/127.67 so it runs beside other tests.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QuickstartTest {
    @TempDir
    Path dir;

    static String moved(String text) {
        return text.replace("127.0.1.", "127.66.1.")
                .replace("127.0.2.", "127.66.2.")
                .replace("127.10.0.", "127.67.0.");
    }

    @Test
    void everyCurlOfTheCommentAnswersAsItSays() throws Exception {
        String example = Files.readString(Path.of("../examples/quickstart.yaml"));
        String good = token(example, "#   T=");
        String expired = token(example, "#   eyJ");
        Path file = dir.resolve("quickstart.yaml");
        Files.writeString(file, moved(example));
        try (var run = RunningMesh.start(file, dir.resolve("ca"))) {
            var waypoints = run.waypoints();
            assertThat(waypoints.waypoints()).as("the payments waypoint").hasSize(1);
            String sleep = "127.66.1.1";
            String curl = "127.66.1.2";

            // L4, at the ztunnels
            assertThat(code(sleep, "http://httpbin.default:8000/get")).isEqualTo("200");
            assertThat(code(curl, "http://httpbin.default:8000/get"))
                    .as("curl: no ALLOW policy matches it")
                    .isEqualTo("000");
            assertThat(code(sleep, "http://ledger.payments:9000/"))
                    .as("ledger-deny-default")
                    .isEqualTo("000");
            assertThat(code(sleep, "http://httpbin.default:8000/get", "--http2-prior-knowledge"))
                    .as("the demo apps speak HTTP/2 with prior knowledge too")
                    .isEqualTo("200");

            // L7, at the waypoint
            String payments = "http://payment-processor.payments/api/v2/payments";
            assertThat(code(sleep, payments + "/process", "-X", "POST", "-H", "amount: 5000"))
                    .isEqualTo("200");
            assertThat(code(sleep, payments + "/process", "-X", "POST", "-H", "amount: 250000"))
                    .as("the article's amount limit")
                    .isEqualTo("403");
            assertThat(code(curl, payments + "/process", "-X", "POST", "-H", "amount: 5"))
                    .as("curl has no rule")
                    .isEqualTo("403");
            assertThat(code(sleep, payments + "/history/alice")).as("no token").isEqualTo("403");
            assertThat(code(sleep, payments + "/history/alice", "-H", "authorization: Bearer " + good))
                    .as("the token the file ships is valid until 2100")
                    .isEqualTo("200");
            assertThat(code(
                            sleep,
                            payments + "/history/alice",
                            "--http2-prior-knowledge",
                            "-H",
                            "authorization: Bearer " + good))
                    .as("HTTP/2 through the waypoint, forwarded as HTTP/2")
                    .isEqualTo("200");
            assertThat(code(sleep, payments + "/history/alice", "-H", "authorization: Bearer x" + good))
                    .isEqualTo("401");
            assertThat(code(sleep, payments + "/history/alice", "-H", "authorization: Bearer " + expired))
                    .isEqualTo("401");

            var limited = new ArrayList<String>();
            for (int i = 0; i < 4; i++) {
                limited.add(code(sleep, "http://fx-rates.payments/eur-usd"));
            }
            assertThat(limited).as("3 requests a minute").containsExactly("200", "200", "200", "429");

            String metrics = run(List.of("curl", "-s", "--max-time", "10", "http://127.66.2.10:15020/metrics"));
            assertThat(metrics.lines()
                            .filter(l -> l.startsWith("istio_requests_total{")
                                    && l.contains("reporter=\"waypoint\"")
                                    && l.contains("response_code=\"429\""))
                            .toList())
                    .isNotEmpty();
        }
    }

    /** The token on the comment line that starts with {@code prefix}. */
    private static String token(String example, String prefix) {
        var m = Pattern.compile("(?m)^" + Pattern.quote(prefix) + "([A-Za-z0-9_.-]+)$")
                .matcher(example);
        assertThat(m.find()).as("a line starting with " + prefix).isTrue();
        String t = m.group(1);
        return prefix.endsWith("eyJ") ? "eyJ" + t : t;
    }

    /** curl's status code as {@code source}, through its ztunnel's SOCKS5; {@code 000} when the connection failed. */
    private static String code(String source, String url, String... extra) throws Exception {
        var cmd = new ArrayList<>(List.of(
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "10",
                "--socks5-hostname",
                source + ":15080"));
        cmd.addAll(List.of(extra));
        cmd.add(url);
        return run(cmd).trim();
    }

    private static String run(List<String> cmd) throws Exception {
        var p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
