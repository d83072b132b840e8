package io.ambit.cli.waypoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.cli.run.OpenSslProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ambit waypoint --compliance-policy pqc}: the waypoint's own HBONE listener refuses a classic
 * (X25519-only) openssl peer; with the default policy it accepts it. Addresses 127.105.3.x.
 */
class WaypointCompliancePolicyTest {
    @TempDir
    Path dir;

    @Test
    void aPqcWaypointRefusesAnX25519OnlyPeerThatADefaultOneAccepts() throws Exception {
        Assumptions.assumeTrue(OpenSslProbe.available(), "openssl is not installed at " + OpenSslProbe.OPENSSL);
        try (var pqc = start("127.105.3.1", "pqc");
                var classic = start("127.105.3.2", "default")) {
            assertThat(pqc.waypoints().waypoints()).hasSize(1);
            var refused = OpenSslProbe.x25519Only("127.105.3.1", 15008);
            assertThat(refused.keyExchangeX25519()).as(refused.output()).isFalse();
            assertThat(refused.output()).contains("handshake failure");

            var accepted = OpenSslProbe.x25519Only("127.105.3.2", 15008);
            assertThat(accepted.keyExchangeX25519()).as(accepted.output()).isTrue();
        }
    }

    private WaypointCommand.Running start(String ip, String policy) throws Exception {
        Path file = dir.resolve("mesh-" + ip + ".yaml");
        Files.writeString(file, """
                mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
                workloads:
                - name: wp
                  namespace: default
                  serviceAccount: wp
                  workloadIps: ["%s"]
                  labels: {gateway.networking.k8s.io/gateway-name: wp}
                """.formatted(ip));
        var command = new WaypointCommand();
        new CommandLine(command)
                .parseArgs(
                        "--ca-dir",
                        dir.resolve("ca").toString(),
                        "--compliance-policy",
                        policy,
                        "--metrics-port",
                        "15020",
                        file.toString());
        return command.start();
    }
}
