package io.ambit.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code ./ambit run examples/waypoint-mesh.yaml} starts: ztunnels, the declared waypoint and demo
 * apps; a real curl through the caller's ztunnel reaches the service through the waypoint, which decides
 * per request (the example moved to 127.97/127.98 so it runs beside other tests).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RunWithWaypointTest {
    @TempDir
    Path dir;

    @Test
    void theServiceIsReachedThroughItsWaypointWhichDecidesEachRequest() throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(
                file,
                Files.readString(Path.of("../examples/waypoint-mesh.yaml"))
                        .replace("127.20.", "127.97.")
                        .replace("127.21.", "127.98."));
        try (var run = RunningMesh.start(file, dir.resolve("ca"))) {
            var mesh = run.mesh();
            var waypoints = run.waypoints();
            assertThat(waypoints.waypoints()).hasSize(1);
            assertThat(mesh.nodes().stream().flatMap(n -> n.workloads().stream()))
                    .extracting(w -> w.name())
                    .as("the ztunnel leaves the waypoint's address to the waypoint")
                    .doesNotContain("payment-waypoint");

            assertThat(call("127.97.1.1", "5000", "0.1")).isEqualTo("200");
            assertThat(call("127.97.1.1", "250000", "0.1"))
                    .as("amount over the limit")
                    .isEqualTo("403");
            assertThat(call("127.97.1.2", "10", "0"))
                    .as("checkout-service has no rule")
                    .isEqualTo("403");

            var metrics = new String(
                    new ProcessBuilder("curl", "-s", "--max-time", "10", "http://127.97.3.1:15020/metrics")
                            .start()
                            .getInputStream()
                            .readAllBytes(),
                    StandardCharsets.UTF_8);
            assertThat(metrics.lines()
                            .filter(l -> l.startsWith("istio_requests_total{")
                                    && l.contains("response_code=\"403\"")
                                    && l.contains("reporter=\"waypoint\""))
                            .toList())
                    .isNotEmpty();
        }
    }

    private static String call(String source, String amount, String fraud) throws Exception {
        var p = new ProcessBuilder(
                        "curl",
                        "-s",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "--max-time",
                        "10",
                        "--socks5-hostname",
                        source + ":15080",
                        "-X",
                        "POST",
                        "-H",
                        "amount: " + amount,
                        "-H",
                        "x-fraud-score: " + fraud,
                        "http://payment-processor.fintech-core/api/v2/payments/process")
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out.trim();
    }
}
