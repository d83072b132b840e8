package io.ambit.cli.waypoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class WaypointCommandTest {
    @TempDir
    Path dir;

    private static CommandLine command(StringWriter out, StringWriter err) {
        var cl = new CommandLine(new WaypointCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl;
    }

    @Test
    void helpDescribesTheListeners() {
        var out = new StringWriter();
        int code = command(out, new StringWriter()).execute("--help");
        assertThat(code).isZero();
        assertThat(out.toString())
                .contains("HBONE")
                .contains("15008")
                .contains("FILE")
                .contains("--ca-dir");
    }

    @Test
    void aFileWithoutWaypointsIsRefusedWithExitCode2() throws Exception {
        Path file = dir.resolve("none.yaml");
        Files.writeString(
                file,
                "workloads:\n- {name: a, namespace: default, serviceAccount: a, workloadIps: [\"127.92.70.9\"]}\n");
        var err = new StringWriter();
        int code = command(new StringWriter(), err)
                .execute("--ca-dir", dir.resolve("ca").toString(), file.toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("ambit waypoint:").contains("declares no waypoint");
    }

    @Test
    void aBadOptionIsNamed() throws Exception {
        var err = new StringWriter();
        int code = command(new StringWriter(), err).execute("--sampling", "250", "x.yaml");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--sampling 250.0 (expected: 0 to 100)");
    }

    @Test
    void theExampleWaypointStartsAndReportsReady() throws Exception {
        // The example on this test's own addresses.
        // 127.20.X.Y becomes 127.92.7X.Y, 127.21.0.Y becomes 127.92.80.Y
        String example = Files.readString(Path.of("../examples/waypoint-mesh.yaml"))
                .replaceAll("127\\.20\\.(\\d)\\.", "127.92.7$1.")
                .replace("127.21.0.", "127.92.80.");
        Path file = dir.resolve("waypoint-mesh.yaml");
        Files.writeString(file, example);
        var cmd = new WaypointCommand();
        new CommandLine(cmd)
                .parseArgs(
                        "--ca-dir",
                        dir.resolve("ca").toString(),
                        "--hbone-port",
                        "0",
                        "--metrics-port",
                        "0",
                        "--readiness-port",
                        "0",
                        file.toString());
        try (var running = cmd.start()) {
            var wps = running.waypoints().waypoints();
            assertThat(wps).hasSize(1);
            assertThat(running.waypoints().banner())
                    .contains("waypoint fintech-core/payment-waypoint")
                    .contains("spiffe://cluster.local/ns/fintech-core/sa/payment-waypoint");
            var admin = wps.getFirst().adminAddresses();
            var http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            var ready = http.send(
                    HttpRequest.newBuilder(URI.create(
                                    "http://" + admin.get(1).getAddress().getHostAddress() + ":"
                                            + admin.get(1).getPort() + "/healthz/ready"))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).isEqualTo("ready\n");
            var metrics = http.send(
                    HttpRequest.newBuilder(URI.create(
                                    "http://" + admin.get(0).getAddress().getHostAddress() + ":"
                                            + admin.get(0).getPort() + "/stats/prometheus"))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(wps.getFirst().hboneAddress().getAddress().getHostAddress())
                    .isEqualTo("127.92.73.1");
        }
    }

    /** examples/waypoint-security.yaml on this test's addresses (127.22.X.Y → 127.92.6X.Y, VIPs 127.92.69.Y). */
    private Path securityExample(String edit) throws Exception {
        String example = Files.readString(Path.of("../examples/waypoint-security.yaml"))
                .replaceAll("127\\.22\\.(\\d)\\.", "127.92.6$1.")
                .replace("127.23.0.", "127.92.69.");
        Path file = dir.resolve("waypoint-security.yaml");
        Files.writeString(file, edit == null ? example : example.replace(edit.split("=>")[0], edit.split("=>")[1]));
        return file;
    }

    @Test
    void theSecurityExampleStartsWithItsProvidersTokensAndLimits() throws Exception {
        Path file = securityExample(null);
        var cmd = new WaypointCommand();
        new CommandLine(cmd)
                .parseArgs(
                        "--ca-dir",
                        dir.resolve("ca").toString(),
                        "--hbone-port",
                        "0",
                        "--metrics-port",
                        "0",
                        "--readiness-port",
                        "0",
                        file.toString());
        try (var running = cmd.start()) {
            assertThat(running.waypoints().banner())
                    .contains("waypoint shop/shop-waypoint")
                    .contains("security: ext_authz providers [external-authz], 1 jwtRule, 2 rate limits");
        }
    }

    @Test
    void aBrokenRateLimitIsRefusedWithItsLineAndExitCode2() throws Exception {
        Path file = securityExample("fillInterval: 2s=>fillInterval: 2 seconds");
        var err = new StringWriter();
        int code = command(new StringWriter(), err)
                .execute("--ca-dir", dir.resolve("ca").toString(), file.toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString())
                .contains("ambit waypoint:")
                .contains(file + ":")
                .contains("LocalRateLimit shop/search-limit")
                .contains("fillInterval");
    }
}
