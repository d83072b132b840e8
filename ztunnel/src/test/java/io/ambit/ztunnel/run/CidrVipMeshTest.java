package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * CIDR VIPs end to end on 127.151.0.0/16 (ztunnel-reference.md §8): a real {@code curl} through SOCKS5 to an
 * address inside a service's range reaches the service's endpoint over HBONE; the exact VIP of another service
 * inside that range goes to that service; a workload's own IP inside the range is still that workload.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CidrVipMeshTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.151.1.1"]}
            - name: web-1
              namespace: default
              serviceAccount: web
              node: node-b
              workloadIps: ["127.151.2.1"]
              services: {"default/web.default.svc.cluster.local": {80: 8080}}
            - name: admin-1
              namespace: default
              serviceAccount: admin
              node: node-b
              workloadIps: ["127.151.2.2"]
              services: {"default/admin.default.svc.cluster.local": {80: 9090}}
            - name: inside
              namespace: default
              serviceAccount: inside
              node: node-b
              workloadIps: ["127.151.100.9"]
              services: {"default/inside.default.svc.cluster.local": {7000: 7070}}
            services:
            - {name: web, namespace: default, hostname: web.default.svc.cluster.local, vips: ["127.151.100.0/24"],
               ports: {80: 8080}}
            - {name: admin, namespace: default, hostname: admin.default.svc.cluster.local,
               vips: ["/127.151.100.80"], ports: {80: 9090}}
            - {name: inside, namespace: default, hostname: inside.default.svc.cluster.local, vips: ["/127.151.101.1"],
               ports: {7000: 7070}}
            """;

    @TempDir
    static Path dir;

    static LocalMesh mesh;
    static final List<AccessLog.Entry> log = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                .withPorts(Node.Ports.builder().admin(0).dns(0).build())
                .withAccessLog(AccessLog.slf4j().and(log::add)));
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    /** curl through SOCKS5 with an IP target: the destination is the address itself, as captured traffic. */
    static LocalMeshTest.Curl curl(String url) throws Exception {
        var p = new ProcessBuilder("curl", "-sS", "--max-time", "15", "--socks5", "127.151.1.1:15080", url)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new LocalMeshTest.Curl(p.exitValue(), out);
    }

    @Test
    void anAddressInsideTheRangeReachesTheServicesEndpoint() throws Exception {
        for (String ip : List.of("127.151.100.7", "127.151.100.255", "127.151.100.0")) {
            var r = curl("http://" + ip + ":80/in-range");
            assertThat(r.exit()).as(ip + ": " + r.out()).isZero();
            assertThat(r.out()).contains("hello from web-1").contains("GET /in-range");
        }
        assertThat(log).anySatisfy(e -> assertThat(e.format())
                .contains("dst.service=\"web.default.svc.cluster.local\"")
                .contains("dst.workload=\"web-1\""));
    }

    @Test
    void anExactVipInsideTheRangeGoesToItsOwnService() throws Exception {
        var r = curl("http://127.151.100.80:80/exact");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("hello from admin-1");
    }

    @Test
    void aWorkloadIpInsideTheRangeIsStillThatWorkload() throws Exception {
        var r = curl("http://127.151.100.9:7070/direct");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("hello from inside");
    }

    @Test
    void anAddressOutsideTheRangeIsNotTheService() throws Exception {
        // 127.151.99.1 is in no range: passthrough to an address nothing listens on, so curl fails
        var r = curl("http://127.151.99.1:80/outside");
        assertThat(r.exit()).isNotZero();
        assertThat(r.out()).doesNotContain("hello from");
        assertThat(log).anySatisfy(e -> assertThat(e.format())
                .contains("127.151.99.1:80")
                .doesNotContain("web.default.svc.cluster.local"));
    }
}
