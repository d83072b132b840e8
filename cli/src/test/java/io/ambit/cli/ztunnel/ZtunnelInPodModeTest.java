package io.ambit.cli.ztunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.cli.logging.LogbackLevels;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ambit ztunnel --inpod-uds}: pods come from the CNI agent's ZDS socket, so the process opens no
 * listener on workload IPs, and it is not ready until the agent's first snapshot arrives (the whole capture
 * path, with a CNI agent and network namespaces, is ztunnel's {@code InPodCaptureTest}).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ZtunnelInPodModeTest {
    @TempDir
    Path dir;

    @Test
    void withoutTheCniAgentTheNodeWaitsNotReadyAndOpensNoWorkloadListeners() throws Exception {
        Path mesh = dir.resolve("mesh.yaml");
        Files.writeString(mesh, ZtunnelOverXdsTest.MESH.replace("127.91.1", "127.91.3"));
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
                "127.91.0.18",
                null,
                null,
                null,
                null,
                mesh,
                dir.resolve("ca"),
                null,
                Node.Ports.builder().admin(0).dns(0).build());
        try (var p = ZtunnelProcess.start(
                ZtunnelSettings.resolve(flags, Map.of()),
                AccessLog.slf4j(),
                LogbackLevels.current(),
                Duration.ofSeconds(1),
                dir.resolve("no-agent.sock"))) {
            p.started().get(60, TimeUnit.SECONDS);
            assertThat(p.node())
                    .as("no listeners on workload IPs in in-pod mode")
                    .isNull();
            assertThat(p.inpod()).isNotNull();
            var ready = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.91.0.18:"
                                            + p.readinessAddress().getPort() + "/healthz/ready"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("not ready, pending: workload proxy manager");
        }
    }

    @Test
    void theZdsSocketComesFromTheFlagOrZtunnelsVariables() {
        assertThat(ZtunnelCommand.inpodSocket(Path.of("/x.sock"), Map.of("INPOD_UDS", "/y.sock")))
                .isEqualTo(Path.of("/x.sock"));
        assertThat(ZtunnelCommand.inpodSocket(null, Map.of("INPOD_UDS", "/y.sock")))
                .isEqualTo(Path.of("/y.sock"));
        assertThat(ZtunnelCommand.inpodSocket(null, Map.of("INPOD_ENABLED", "true")))
                .isEqualTo(Path.of("/var/run/ztunnel/ztunnel.sock"));
        assertThat(ZtunnelCommand.inpodSocket(null, Map.of("INPOD_ENABLED", "false", "INPOD_UDS", "/y.sock")))
                .isNull();
        assertThat(ZtunnelCommand.inpodSocket(null, Map.of())).isNull();
        assertThatThrownBy(() -> ZtunnelCommand.inpodSocket(null, Map.of("INPOD_ENABLED", "yes")))
                .hasMessageContaining("INPOD_ENABLED is \"yes\" (expected: true or false)");
    }
}
