package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ambit run}'s DNS proxies (local mode): with the node's DNS port set (15053 by default), every
 * workload IP answers DNS as that workload, so a laptop user can {@code dig @127.150.2.1 -p 15053
 * httpbin.default}; the banner says so; the node's metrics count the queries.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LocalMeshDnsTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.150.2.1"]}
            - {name: other, namespace: other, serviceAccount: other, node: node-a, workloadIps: ["127.150.2.2"]}
            - name: httpbin-1
              namespace: default
              serviceAccount: httpbin
              node: node-b
              workloadIps: ["127.150.3.1"]
              services: {"default/httpbin.default.svc.cluster.local": {8000: 8080}}
            services:
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/127.150.10.1"], ports: {8000: 8080}}
            """;

    @TempDir
    static Path dir;

    static LocalMesh mesh;

    @BeforeAll
    static void start() throws Exception {
        Dig.binary();
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                .withPorts(Node.Ports.builder().admin(0).build()));
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    static Node node(String name) {
        return mesh.nodes().stream()
                .filter(n -> n.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void eachWorkloadIpAnswersDnsAsThatWorkload() throws Exception {
        assertThat(node("node-a").dnsAddresses())
                .containsExactlyInAnyOrder(
                        new InetSocketAddress("127.150.2.1", 15053), new InetSocketAddress("127.150.2.2", 15053));
        var sleep = Dig.query("127.150.2.1", 15053, "httpbin.default", "A");
        assertThat(sleep.answers())
                .containsExactly(
                        "httpbin.default. 30 IN CNAME httpbin.default.svc.cluster.local.",
                        "httpbin.default.svc.cluster.local. 30 IN A 127.150.10.1");
        var bare = Dig.query("127.150.2.1", 15053, "httpbin", "A");
        assertThat(bare.data("A")).containsExactly("127.150.10.1");
        // "httpbin" alone is a name in the asker's namespace: other's namespace has none
        var fromOther = Dig.query("127.150.2.2", 15053, "httpbin.default.svc.cluster.local", "A");
        assertThat(fromOther.data("A")).containsExactly("127.150.10.1");
        String metrics = node("node-a").registry().scrape();
        assertThat(metrics)
                .containsPattern("istio_dns_requests_total\\{request_protocol=\"udp\",request_query_type=\"a\","
                        + "source_canonical_revision=\"[^\"]+\",source_canonical_service=\"sleep\"} [2-9]");
    }

    @Test
    void theBannerSaysHowToAsk() {
        assertThat(mesh.banner())
                .contains("dns 127.150.2.1:15053")
                .contains("dig @127.150.2.1 -p 15053 httpbin.default");
    }
}
