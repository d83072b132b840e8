package io.ambit.cli.ztunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.cli.logging.LogbackLevels;
import io.ambit.cli.run.ComplianceOption;
import io.ambit.cli.run.OpenSslProbe;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code COMPLIANCE_POLICY=PQC ambit ztunnel --mesh-file FILE --node node-a}: the node's HBONE port refuses a
 * classic (X25519-only) openssl peer. Addresses 127.105.6.x.
 */
class ZtunnelCompliancePolicyTest {
    @TempDir
    Path dir;

    @Test
    void thePqcVariableReachesTheNodesHboneListener() throws Exception {
        Assumptions.assumeTrue(OpenSslProbe.available(), "openssl is not installed at " + OpenSslProbe.OPENSSL);
        Path mesh = dir.resolve("mesh.yaml");
        Files.writeString(mesh, """
                mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
                workloads:
                - {name: app, namespace: default, serviceAccount: app, node: node-a, workloadIps: ["127.105.6.1"]}
                """);
        var flags = new ZtunnelSettings.Flags(
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                "node-a",
                null,
                null,
                "127.105.6.16",
                null,
                null,
                null,
                null,
                mesh,
                dir.resolve("ca"),
                null,
                Node.Ports.builder().admin(0).dns(0).build());
        var env = Map.of("COMPLIANCE_POLICY", "PQC");
        try (var process = ZtunnelProcess.start(
                ZtunnelSettings.resolve(flags, env),
                AccessLog.slf4j(),
                LogbackLevels.current(),
                Duration.ofSeconds(1),
                null,
                ComplianceOption.tls(null, env))) {
            process.started().get(60, TimeUnit.SECONDS);
            var refused = OpenSslProbe.x25519Only("127.105.6.1", 15008);
            assertThat(refused.keyExchangeX25519()).as(refused.output()).isFalse();
            assertThat(refused.output()).contains("handshake failure");
        }
    }
}
