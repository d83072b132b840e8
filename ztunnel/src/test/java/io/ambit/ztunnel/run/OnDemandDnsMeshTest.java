package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.outbound.TestNames;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Services whose endpoint is a workload known by hostname only (a ServiceEntry with {@code resolution: DNS}),
 * on 127.151.0.0/16 with a real {@code curl} through SOCKS5 (ztunnel-reference.md §8): the name is resolved
 * at connect time by the JDK's resolver — {@code localhost} as the machine resolves it, {@code *.names.test}
 * through {@link TestNames} plugged into that same resolver — and the connection reaches a real HTTP server
 * at the address; a name that does not resolve refuses the connection and the access log names it;
 * {@code istio_on_demand_dns_total} counts each connection that needed the name.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OnDemandDnsMeshTest {
    @TempDir
    static Path dir;

    static LocalMesh mesh;
    static final List<AccessLog.Entry> log = new CopyOnWriteArrayList<>();
    static final List<HttpServer> servers = new ArrayList<>();
    static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    static int serve(String host, String text) throws Exception {
        var server = HttpServer.create(new InetSocketAddress(host, 0), 16);
        server.createContext("/", exchange -> {
            byte[] body =
                    ("hello from " + text + ": " + exchange.getRequestURI() + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        servers.add(server);
        return server.getAddress().getPort();
    }

    @BeforeAll
    static void start() throws Exception {
        int api = serve("127.151.5.5", "api-server");
        int local = serve("127.0.0.1", "local-server");
        TestNames.register("api.names.test", "127.151.5.5");
        String yaml = """
                mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
                workloads:
                - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.151.21.1"]}
                - {name: api-ext, namespace: default, hostname: api.names.test, protocol: TCP, node: node-a,
                   services: {"default/api.example.com": {80: API}}}
                - {name: local-ext, namespace: default, hostname: localhost, protocol: TCP, node: node-a,
                   services: {"default/local.example.com": {80: LOCAL}}}
                - {name: gone-ext, namespace: default, hostname: missing.names.test, protocol: TCP, node: node-a,
                   services: {"default/gone.example.com": {80: 80}}}
                services:
                - {name: api, namespace: default, hostname: api.example.com, vips: ["/127.151.22.1"], ports: {80: API}}
                - {name: local, namespace: default, hostname: local.example.com, vips: ["/127.151.22.2"],
                   ports: {80: LOCAL}}
                - {name: gone, namespace: default, hostname: gone.example.com, vips: ["/127.151.22.3"], ports: {80: 80}}
                """.replace("API", Integer.toString(api)).replace("LOCAL", Integer.toString(local));
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, yaml);
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                .withPorts(Node.Ports.builder().admin(0).dns(0).build())
                .withAccessLog(AccessLog.slf4j().and(log::add)));
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
        servers.forEach(s -> s.stop(0));
        http.close();
    }

    static LocalMeshTest.Curl curl(String socksMode, String url) throws Exception {
        var p = new ProcessBuilder("curl", "-sS", "--max-time", "15", socksMode, "127.151.21.1:15080", url)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new LocalMeshTest.Curl(p.exitValue(), out);
    }

    @Test
    void theServiceVipReachesTheAddressTheHostnameResolvesTo() throws Exception {
        var r = curl("--socks5", "http://127.151.22.1:80/by-vip");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("hello from api-server: /by-vip");
        var byName = curl("--socks5-hostname", "http://api.example.com:80/by-name");
        assertThat(byName.exit()).as(byName.out()).isZero();
        assertThat(byName.out()).contains("hello from api-server: /by-name");
        assertThat(log).anySatisfy(e -> assertThat(e.format())
                .contains("dst.service=\"api.example.com\"")
                .contains("dst.workload=\"api-ext\"")
                .contains("127.151.5.5:"));
    }

    @Test
    void localhostResolvesAsTheMachineResolvesItInTheDialedFamily() throws Exception {
        var r = curl("--socks5", "http://127.151.22.2:80/local");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("hello from local-server: /local");
    }

    @Test
    void aHostnameThatDoesNotResolveIsRefusedAndTheLogNamesIt() throws Exception {
        var r = curl("--socks5", "http://127.151.22.3:80/gone");
        assertThat(r.exit()).isNotZero();
        assertThat(r.out()).doesNotContain("hello from");
        assertThat(log).anySatisfy(e -> assertThat(e.error())
                .contains("on-demand DNS: hostname missing.names.test of endpoint gone-ext did not resolve"));
        assertThat(log).anySatisfy(e -> assertThat(e.format())
                .contains("missing.names.test:80")
                .contains("dst.service=\"gone.example.com\""));
    }

    @Test
    void everyConnectionThatNeedsTheNameIsCountedAnsweredOrNot() throws Exception {
        String before = metric("api.names.test");
        for (int i = 0; i < 3; i++) {
            assertThat(curl("--socks5", "http://127.151.22.1:80/count").exit()).isZero();
        }
        String line = metric("api.names.test");
        assertThat(line)
                .isNotNull()
                .contains("source_workload=\"sleep\"")
                .contains("source_canonical_service=\"sleep\"")
                .contains("source_workload_namespace=\"default\"")
                .contains("source_principal=\"spiffe://cluster.local/ns/default/sa/sleep\"")
                .contains("source_cluster=\"unknown\"");
        assertThat(value(line) - (before == null ? 0 : value(before)))
                .as("one per connection, the cached answers too")
                .isEqualTo(3.0);

        String missingBefore = metric("missing.names.test");
        assertThat(curl("--socks5", "http://127.151.22.3:80/gone").exit()).isNotZero();
        assertThat(value(metric("missing.names.test")) - (missingBefore == null ? 0 : value(missingBefore)))
                .isEqualTo(1.0);
    }

    /** The {@code istio_on_demand_dns_total} line of node-a for {@code hostname}, or null when none yet. */
    private static String metric(String hostname) throws Exception {
        var node = mesh.nodes().stream()
                .filter(n -> n.name().equals("node-a"))
                .findFirst()
                .orElseThrow();
        var at = node.endpointAddresses().getFirst();
        var response = http.send(
                HttpRequest.newBuilder(URI.create(
                                "http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + "/metrics"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body()
                .lines()
                .filter(l -> l.startsWith("istio_on_demand_dns_total{") && l.contains("hostname=\"" + hostname + "\""))
                .findFirst()
                .orElse(null);
    }

    private static double value(String line) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
}
