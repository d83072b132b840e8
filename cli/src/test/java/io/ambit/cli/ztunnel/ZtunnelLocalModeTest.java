package io.ambit.cli.ztunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.cli.logging.LogbackLevels;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ambit ztunnel --mesh-file FILE --node NAME}: two processes, one file, one embedded CA directory,
 * each serving its own node's workloads; a real curl crosses them through HBONE.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ZtunnelLocalModeTest {
    @TempDir
    Path dir;

    @Test
    void twoNodesFromOneLocalFileCarryTrafficBetweenThem() throws Exception {
        Path mesh = dir.resolve("mesh.yaml");
        Files.writeString(
                mesh,
                ZtunnelOverXdsTest.MESH
                                .replace("127.91.1", "127.91.2")
                                .replace("127.91.10.", "127.91.20.")
                                .replace("127.91.11.", "127.91.21.")
                        + ZtunnelOverXdsTest.ALLOW_CLIENT);
        var web = XdsLab.web("127.91.20.2");
        try (var a = start(mesh, "node-a", "127.91.0.16");
                var b = start(mesh, "node-b", "127.91.0.17")) {
            a.started().get(60, TimeUnit.SECONDS);
            b.started().get(60, TimeUnit.SECONDS);
            assertThat(b.node().workloads()).extracting(w -> w.name()).containsExactly("web");
            var p = new ProcessBuilder(
                            "curl",
                            "-sS",
                            "--max-time",
                            "10",
                            "--socks5",
                            "127.91.20.1:15080",
                            "http://127.91.21.1:80/")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("hello from web");
        } finally {
            web.stop(0);
        }
    }

    private ZtunnelProcess start(Path mesh, String node, String ip) throws Exception {
        var flags = new ZtunnelSettings.Flags(
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                node,
                null,
                null,
                ip,
                null,
                null,
                null,
                null,
                mesh,
                dir.resolve("ca"),
                null,
                Node.Ports.builder().admin(0).dns(0).build());
        return ZtunnelProcess.start(
                ZtunnelSettings.resolve(flags, Map.of()),
                AccessLog.slf4j(),
                LogbackLevels.current(),
                Duration.ofSeconds(1));
    }
}
