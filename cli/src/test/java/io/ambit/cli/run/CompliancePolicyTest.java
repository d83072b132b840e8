package io.ambit.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.cli.Main;
import io.ambit.hbone.tls.CompliancePolicy;
import io.ambit.waypoint.local.LocalWaypoints;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The article's {@code COMPLIANCE_POLICY: "PQC"} for {@code ambit run}, {@code ambit ztunnel} and
 * {@code ambit waypoint}: how the option and the variable resolve, their errors, and a classic (X25519-only)
 * openssl peer refused by a pqc node's HBONE port but accepted by a default one. Addresses 127.105.0.0/16.
 */
class CompliancePolicyTest {
    @TempDir
    Path dir;

    @Test
    void theOptionWinsOverTheVariableWhichWinsOverTheDefault() {
        assertThat(ComplianceOption.resolve(null, Map.of())).isEqualTo(CompliancePolicy.DEFAULT);
        assertThat(ComplianceOption.resolve(null, Map.of("COMPLIANCE_POLICY", "")))
                .isEqualTo(CompliancePolicy.DEFAULT);
        assertThat(ComplianceOption.resolve(null, Map.of("COMPLIANCE_POLICY", "PQC")))
                .isEqualTo(CompliancePolicy.PQC);
        assertThat(ComplianceOption.resolve(null, Map.of("COMPLIANCE_POLICY", "pqc")))
                .isEqualTo(CompliancePolicy.PQC);
        assertThat(ComplianceOption.resolve("default", Map.of("COMPLIANCE_POLICY", "PQC")))
                .isEqualTo(CompliancePolicy.DEFAULT);
        assertThat(ComplianceOption.resolve("Pqc", Map.of())).isEqualTo(CompliancePolicy.PQC);
        assertThat(ComplianceOption.tls("pqc", Map.of()).compliancePolicy()).isEqualTo(CompliancePolicy.PQC);
    }

    @Test
    void badValuesNameTheOptionOrTheVariableAndTheExpectedValues() {
        assertThatThrownBy(() -> ComplianceOption.resolve("foo", Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--compliance-policy foo (expected: default or pqc)");
        assertThatThrownBy(() -> ComplianceOption.resolve(null, Map.of("COMPLIANCE_POLICY", "fips-140-2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("COMPLIANCE_POLICY=fips-140-2 (expected: default or pqc)");
    }

    @Test
    void eachCommandRefusesABadOptionWithExitCode2() throws Exception {
        Path file = meshFile("127.105.9.1");
        for (List<String> args : List.of(
                List.of("run", "--ca-dir", dir.resolve("ca").toString(), file.toString()),
                List.of("ztunnel", "--mesh-file", file.toString(), "--node", "node-a"),
                List.of("waypoint", "--ca-dir", dir.resolve("ca").toString(), file.toString()))) {
            var err = new StringWriter();
            List<String> all = new ArrayList<>(args);
            all.add(1, "--compliance-policy");
            all.add(2, "foo");
            int code = Main.run(
                    new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), all.toArray(String[]::new));
            assertThat(code).as("%s", all).isEqualTo(2);
            assertThat(err.toString())
                    .as("%s", all)
                    .contains("ambit " + args.get(0) + ": --compliance-policy foo (expected: default or pqc)");
        }
    }

    /** A real process with a real environment: the variable as the article sets it, misspelt. */
    @Test
    void aBadVariableStopsARealProcessWithExitCode2() throws Exception {
        Path file = meshFile("127.105.9.2");
        String java = ProcessHandle.current().info().command().orElse("java");
        var pb = new ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        "io.ambit.cli.Main",
                        "run",
                        "--ca-dir",
                        dir.resolve("ca").toString(),
                        file.toString())
                .redirectErrorStream(true);
        pb.environment().put("COMPLIANCE_POLICY", "foo");
        Process p = pb.start();
        p.getOutputStream().close();
        boolean exited = p.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
        }
        assertThat(exited).as("ambit run ended").isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isEqualTo(2);
        assertThat(out).contains("ambit run: COMPLIANCE_POLICY=foo (expected: default or pqc)");
    }

    @Test
    void aPqcNodeRefusesAnX25519OnlyPeerThatADefaultNodeAccepts() throws Exception {
        Assumptions.assumeTrue(OpenSslProbe.available(), "openssl is not installed at " + OpenSslProbe.OPENSSL);
        var ports = Node.Ports.builder().admin(0).dns(0).build();
        try (var pqc = LocalMesh.start(LocalMesh.Config.of(meshFile("127.105.1.1"), dir.resolve("ca"))
                        .withPorts(ports)
                        .withTls(ComplianceOption.tls("pqc", Map.of())));
                var classic = LocalMesh.start(LocalMesh.Config.of(meshFile("127.105.2.1"), dir.resolve("ca"))
                        .withPorts(ports)
                        .withTls(ComplianceOption.tls(null, Map.of())))) {
            var refused = OpenSslProbe.x25519Only("127.105.1.1", 15008);
            assertThat(refused.keyExchangeX25519()).as(refused.output()).isFalse();
            assertThat(refused.exit()).as(refused.output()).isNotZero();
            assertThat(refused.output()).contains("handshake failure");

            var accepted = OpenSslProbe.x25519Only("127.105.2.1", 15008);
            assertThat(accepted.keyExchangeX25519()).as(accepted.output()).isTrue();
        }
    }

    /**
     * What {@code ambit run --compliance-policy pqc FILE} starts (its config and waypoint options, with the
     * admin port moved to any free one): the node's and the waypoint's HBONE ports both refuse a classic peer.
     */
    @Test
    void ambitRunWithPqcAppliesItToTheNodesAndTheWaypoints() throws Exception {
        Assumptions.assumeTrue(OpenSslProbe.available(), "openssl is not installed at " + OpenSslProbe.OPENSSL);
        Path file = dir.resolve("run.yaml");
        Files.writeString(file, """
                mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
                workloads:
                - {name: app, namespace: default, serviceAccount: app, node: node-a, workloadIps: ["127.105.5.1"]}
                - name: wp
                  namespace: default
                  serviceAccount: wp
                  node: node-a
                  workloadIps: ["127.105.5.2"]
                  labels: {gateway.networking.k8s.io/gateway-name: wp}
                """);
        var command = new RunCommand();
        new CommandLine(command)
                .parseArgs(
                        "--compliance-policy",
                        "pqc",
                        "--ca-dir",
                        dir.resolve("ca").toString(),
                        file.toString());
        // the variable alone, as the article sets it, gives the same
        var fromEnv = new RunCommand();
        new CommandLine(fromEnv).parseArgs(file.toString());
        assertThat(fromEnv.config(Map.of("COMPLIANCE_POLICY", "PQC")).tls().compliancePolicy())
                .isEqualTo(CompliancePolicy.PQC);
        assertThat(fromEnv.config(Map.of()).tls().compliancePolicy()).isEqualTo(CompliancePolicy.DEFAULT);

        var config = command.config(Map.of())
                .withPorts(Node.Ports.builder().admin(0).dns(0).build());
        assertThat(config.tls().compliancePolicy()).isEqualTo(CompliancePolicy.PQC);
        try (var mesh = LocalMesh.start(config)) {
            var waypoints = LocalWaypoints.start(
                    mesh.source(),
                    mesh.certificates(),
                    mesh.transport(),
                    mesh.loops(),
                    io.ambit.waypoint.telemetry.AccessLog.slf4j(),
                    RunCommand.waypointOptions(config));
            mesh.closeAlongside(() -> waypoints.close(Duration.ZERO));
            assertThat(waypoints.waypoints()).hasSize(1);
            for (String ip : List.of("127.105.5.1", "127.105.5.2")) {
                var refused = OpenSslProbe.x25519Only(ip, 15008);
                assertThat(refused.keyExchangeX25519())
                        .as(ip + ": " + refused.output())
                        .isFalse();
                assertThat(refused.output()).as(ip).contains("handshake failure");
            }
        }
    }

    private Path meshFile(String ip) throws Exception {
        Path file = dir.resolve("mesh-" + ip + ".yaml");
        Files.writeString(file, """
                mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
                workloads:
                - {name: app, namespace: default, serviceAccount: app, node: node-a, workloadIps: ["%s"]}
                """.formatted(ip));
        return file;
    }
}
