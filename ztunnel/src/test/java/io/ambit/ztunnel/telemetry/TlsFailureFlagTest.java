package io.ambit.ztunnel.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destination whose 15008 is a real {@code openssl s_server} with a certificate from no mesh CA: our
 * node's tunnel fails in the TLS handshake, and the source reporter counts it the way ztunnel does, with
 * {@code response_flags="TLS_FAILURE"} in {@code istio_tcp_connections_failed_total} (ztunnel-reference
 * §7.1), not the catch-all {@code CONNECT}. Addresses 127.133.3.x.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TlsFailureFlagTest {
    private static final String OPENSSL = "/usr/bin/openssl";

    @TempDir
    Path dir;

    @Test
    void aTunnelRefusedInTheTlsHandshakeIsCountedAsTlsFailure() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of(OPENSSL)), "openssl is not installed at " + OPENSSL);
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        Process req = new ProcessBuilder(
                        OPENSSL,
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:P-256",
                        "-nodes",
                        "-keyout",
                        key.toString(),
                        "-out",
                        cert.toString(),
                        "-days",
                        "1",
                        "-subj",
                        "/CN=stranger")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("req.log").toFile())
                .start();
        assertThat(req.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(req.exitValue()).isZero();

        Path mesh = dir.resolve("mesh.yaml");
        Files.writeString(mesh, """
                mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
                workloads:
                - {name: client, namespace: default, serviceAccount: client, node: node-a, workloadIps: ["127.133.3.1"]}
                - {name: server, namespace: default, serviceAccount: server, node: node-b, workloadIps: ["127.133.3.2"]}
                """);
        Path serverLog = dir.resolve("s_server.log");
        // stdin stays open: s_server quits at its end of input
        Process server = new ProcessBuilder(
                        OPENSSL,
                        "s_server",
                        "-accept",
                        "127.133.3.2:15008",
                        "-tls1_3",
                        "-cert",
                        cert.toString(),
                        "-key",
                        key.toString(),
                        "-alpn",
                        "h2")
                .redirectErrorStream(true)
                .redirectOutput(serverLog.toFile())
                .start();
        try {
            awaitFile(serverLog, "ACCEPT");
            var config = LocalMesh.Config.of(mesh, dir.resolve("ca"))
                    .withPorts(Node.Ports.builder().admin(0).dns(0).build())
                    .withServedElsewhere((state, w) -> w.name().equals("server"));
            try (var local = LocalMesh.start(config);
                    var http = HttpClient.newBuilder()
                            .connectTimeout(Duration.ofSeconds(10))
                            .build()) {
                Process curl = new ProcessBuilder(
                                "curl",
                                "-sS",
                                "--max-time",
                                "10",
                                "--socks5",
                                "127.133.3.1:15080",
                                "http://127.133.3.2:80/")
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("curl.log").toFile())
                        .start();
                assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(curl.exitValue()).as("the tunnel cannot be set up").isNotZero();

                var nodeA = local.nodes().stream()
                        .filter(n -> n.name().equals("node-a"))
                        .findFirst()
                        .orElseThrow();
                var at = nodeA.endpointAddresses().getFirst();
                String metrics = http.send(
                                HttpRequest.newBuilder(URI.create("http://"
                                                + at.getAddress().getHostAddress() + ":" + at.getPort() + "/metrics"))
                                        .timeout(Duration.ofSeconds(10))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();
                String failed = metrics.lines()
                        .filter(l -> l.startsWith("istio_tcp_connections_failed_total{") && l.contains("sa/client"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no failed line for the client in\n" + metrics));
                assertThat(failed)
                        .contains("reporter=\"source\"")
                        .contains("response_flags=\"TLS_FAILURE\"")
                        .endsWith(" 1.0");
            }
        } finally {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** Waits (at most 30 s) until {@code file} contains {@code text}. */
    private static void awaitFile(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; i < 3000 && System.nanoTime() < deadline; i++) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        throw new AssertionError("no " + text + " in " + file + ":\n" + Files.readString(file));
    }
}
