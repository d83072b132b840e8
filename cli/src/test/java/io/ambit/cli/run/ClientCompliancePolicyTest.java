package io.ambit.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client side of the compliance policy: a node's HBONE pool dialling a classic (X25519-only)
 * {@code openssl s_server} that stands in for the destination's 15008. Under pqc the server finds no
 * key share it can use; under default it answers with a ServerHello (the handshake then fails on our
 * side, on its self-signed certificate: only the key exchange matters here). Addresses 127.105.11.x.
 */
class ClientCompliancePolicyTest {
    @TempDir
    Path dir;

    @Test
    void aPqcNodeOffersAClassicUpstreamNoKeyShareItCanUse() throws Exception {
        String seen = dial("pqc", "127.105.11.1", "127.105.11.2");
        assertThat(seen)
                .contains("ClientHello")
                .contains("no suitable key share")
                .doesNotContain("ServerHello");
    }

    @Test
    void aDefaultNodeFallsBackToX25519WithAClassicUpstream() throws Exception {
        String seen = dial("default", "127.105.11.3", "127.105.11.4");
        assertThat(seen).contains("ClientHello").contains("ServerHello");
    }

    /** What s_server at {@code serverIp:15008} printed when the node of {@code clientIp} dialled it. */
    private String dial(String policy, String clientIp, String serverIp) throws Exception {
        Assumptions.assumeTrue(OpenSslProbe.available(), "openssl is not installed at " + OpenSslProbe.OPENSSL);
        Path key = dir.resolve(policy + "-key.pem");
        Path cert = dir.resolve(policy + "-cert.pem");
        Process req = new ProcessBuilder(
                        OpenSslProbe.OPENSSL,
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
                        "/CN=x")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(policy + "-req.log").toFile())
                .start();
        assertThat(req.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(req.exitValue()).isZero();

        Path mesh = dir.resolve(policy + "-mesh.yaml");
        Files.writeString(mesh, """
                mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
                workloads:
                - {name: client, namespace: default, serviceAccount: client, node: node-a, workloadIps: ["%s"]}
                - {name: server, namespace: default, serviceAccount: server, node: node-b, workloadIps: ["%s"]}
                """.formatted(clientIp, serverIp));
        Path log = dir.resolve(policy + "-s_server.log");
        // stdin stays open: s_server quits at its end of input
        Process server = new ProcessBuilder(
                        OpenSslProbe.OPENSSL,
                        "s_server",
                        "-accept",
                        serverIp + ":15008",
                        "-tls1_3",
                        "-groups",
                        "X25519",
                        "-cert",
                        cert.toString(),
                        "-key",
                        key.toString(),
                        "-alpn",
                        "h2",
                        "-msg")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            awaitLog(log, s -> s.contains("ACCEPT"), "s_server listening");
            // the destination's node is "elsewhere": s_server holds its 15008
            var config = LocalMesh.Config.of(mesh, dir.resolve("ca"))
                    .withPorts(Node.Ports.builder().admin(0).dns(0).build())
                    .withServedElsewhere((state, w) -> w.name().equals("server"))
                    .withTls(ComplianceOption.tls(policy, Map.of()));
            try (var ignored = LocalMesh.start(config)) {
                Process curl = new ProcessBuilder(
                                "curl",
                                "-sS",
                                "--max-time",
                                "10",
                                "--socks5",
                                clientIp + ":15080",
                                "http://" + serverIp + ":80/")
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve(policy + "-curl.log").toFile())
                        .start();
                assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(curl.exitValue()).as("the tunnel cannot be set up").isNotZero();
                return awaitLog(
                        log,
                        s -> s.contains("no suitable key share") || s.contains("Certificate"),
                        "s_server saw the handshake");
            }
        } finally {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** Reads {@code log} until {@code done} holds, for at most 30 s. */
    private static String awaitLog(Path log, Predicate<String> done, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; i < 3000; i++) {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            if (done.test(text)) {
                return text;
            }
            if (System.nanoTime() > deadline) {
                break;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        throw new AssertionError("timed out waiting for " + what + "; " + log + ":\n" + Files.readString(log));
    }
}
