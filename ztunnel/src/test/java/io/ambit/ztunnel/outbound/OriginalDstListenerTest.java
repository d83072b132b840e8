package io.ambit.ztunnel.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.ztunnel.inpod.TestMesh;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbound capture listener on loopback (127.90.3.0/24), where nothing redirects: a client that dials
 * 15001 itself is a self-call, refused and logged, and the listener keeps serving. (Redirected traffic is
 * exercised with real iptables in network namespaces: {@code io.ambit.ztunnel.inpod}.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OriginalDstListenerTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.90.3.1"]}
            """;

    @TempDir
    Path dir;

    TestMesh mesh;
    ClientTls clientTls;
    HbonePool pool;
    OriginalDstListener listener;

    @BeforeEach
    void start() throws Exception {
        mesh = new TestMesh(dir, MESH);
        clientTls = new ClientTls(TlsSettings.defaults());
        pool = new HbonePool(
                PoolConfig.defaults(),
                clientTls,
                SourceCertificates.from(mesh.certificates),
                mesh.transport,
                mesh.group);
        var ip = InetAddress.getByName("127.90.3.1");
        var flow = new OutboundFlow(
                OutboundFlow.Source.at(ip),
                15008,
                mesh.source,
                pool,
                mesh.transport,
                mesh.accessLog,
                new TrafficMetrics(new SimpleMeterRegistry()));
        listener = OriginalDstListener.start(
                new InetSocketAddress(ip, 15001), flow, Set.of(15001, 15006, 15008), mesh.transport, mesh.group);
    }

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (clientTls != null) {
            clientTls.close();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void aClientDialingTheListenerItselfIsRefusedAsASelfCall() throws Exception {
        var p = new ProcessBuilder("curl", "-sS", "--max-time", "10", "http://127.90.3.1:15001/")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isNotZero(); // closed without an answer
        TestMesh.await("the refusal's access-log line", Duration.ofSeconds(10), () -> !mesh.log.isEmpty());
        var line = mesh.log.getFirst();
        assertThat(line.direction()).isEqualTo("outbound");
        assertThat(line.error()).contains("self-call to ztunnel port 15001").contains("not redirected");
        assertThat(line.srcWorkload()).isEqualTo("sleep");
        assertThat(line.dstAddr()).isEqualTo("127.90.3.1:15001");
    }

    @Test
    void garbageBeforeTheRefusalChangesNothingAndTheListenerKeepsServing() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (var s = new Socket()) {
                s.setSoTimeout(10_000);
                s.connect(listener.address(), 5_000);
                s.getOutputStream().write(new byte[] {0, 1, 2, 3, (byte) 0xff});
                assertThat(s.getInputStream().read()).isEqualTo(-1); // closed, nothing sent back
            } catch (IOException e) {
                assertThat(e).hasMessageContaining("reset"); // a close with unread bytes may reset
            }
        }
        TestMesh.await("three refusals logged", Duration.ofSeconds(10), () -> mesh.log.size() == 3);
        assertThat(mesh.log).allSatisfy(e -> assertThat(e.error()).contains("self-call"));
    }
}
