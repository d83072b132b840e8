package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.node.Node;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metrics, readiness and admin of a small mesh on 127.79.0.0/16 (its own range), scraped over HTTP after
 * an allowed and a denied call made with a real {@code curl}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TelemetryTest {
    static final String MESH = LocalMeshTest.MESH.replace("127.77.", "127.79.");

    @TempDir
    static Path dir;

    static LocalMesh mesh;
    static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void start() throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                .withPorts(Node.Ports.builder().admin(0).dns(0).build()));
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
        http.close();
    }

    static HttpResponse<String> get(InetSocketAddress at, String path, String method) throws Exception {
        var uri = URI.create("http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + path);
        var request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    static Node node(String name) {
        return mesh.nodes().stream()
                .filter(n -> n.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void metricsCountAnAllowedAndADeniedCallWithZtunnelsLabels() throws Exception {
        assertThat(LocalMeshTest.curl("127.79.1.1:15080", "http://httpbin.default:8000/get")
                        .exit())
                .isZero();
        assertThat(LocalMeshTest.curl("127.79.1.2:15080", "http://httpbin.default:8000/get")
                        .exit())
                .isNotZero();

        var at = node("node-b").endpointAddresses().getFirst();
        assertThat(at.getAddress().getHostAddress()).isEqualTo("127.79.2.1");
        var metrics = get(at, "/metrics", "GET");
        assertThat(metrics.statusCode()).isEqualTo(200);
        String body = metrics.body();
        assertThat(get(at, "/stats/prometheus", "GET").body()).contains("istio_tcp_connections_opened_total");

        assertThat(line(body, "istio_tcp_connections_opened_total{", "sa/sleep"))
                .contains("reporter=\"destination\"")
                .contains("destination_workload=\"httpbin-1\"")
                .contains("destination_workload_namespace=\"default\"")
                .contains("destination_principal=\"spiffe://cluster.local/ns/default/sa/httpbin\"")
                .contains("destination_app=\"httpbin\"")
                .contains("source_principal=\"spiffe://cluster.local/ns/default/sa/sleep\"")
                .contains("response_flags=\"-\"")
                .contains("connection_security_policy=\"mutual_tls\"")
                .contains("request_protocol=\"tcp\"")
                .contains("source_cluster=\"unknown\"")
                .contains("destination_service=\"httpbin.default.svc.cluster.local\"")
                .contains("destination_service_name=\"httpbin\"")
                .endsWith(" 1.0");
        assertThat(line(body, "istio_build{", "component=\"ztunnel\"")).endsWith(" 1.0");
        assertThat(body).containsPattern("(?m)^process_open_fds [1-9]").containsPattern("(?m)^process_max_fds [1-9]");
        assertThat(line(body, "ambit_authorization_decisions_total{", "DENY"))
                .contains("reporter=\"destination\"")
                .contains("policy=\"none\"")
                .endsWith(" 1.0");
        assertThat(line(body, "ambit_authorization_decisions_total{", "ALLOW"))
                .contains("policy=\"default/httpbin-from-sleep\"");
        assertThat(line(body, "istio_cert_expiry_timestamp{", "sa/httpbin"))
                .as("the certificate meters are on every node's /metrics")
                .doesNotContain(" 0.0");
        assertThat(line(body, "istio_tcp_connections_failed_total{", "sa/curl"))
                .contains("response_flags=\"DENY\"")
                .endsWith(" 1.0");
        assertThat(line(body, "istio_tcp_connections_closed_total{", "sa/curl")).contains("response_flags=\"DENY\"");
        assertThat(body.lines()
                        .filter(l -> l.startsWith("istio_tcp_connections_opened_total{") && l.contains("sa/curl"))
                        .toList())
                .as("a denied call is never opened")
                .isEmpty();
    }

    static String line(String body, String prefix, String containing) {
        return body.lines()
                .filter(l -> l.startsWith(prefix) && l.contains(containing))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + prefix + " line with " + containing + " in\n" + body));
    }

    @Test
    void readinessIsReadyOnceConfigAndCertificatesAreIn() throws Exception {
        for (var node : mesh.nodes()) {
            var r = get(node.endpointAddresses().get(1), "/healthz/ready", "GET");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ready\n");
        }
    }

    @Test
    void configDumpShowsWorkloadsServicesPoliciesAndCertificates() throws Exception {
        var r = get(mesh.adminAddress(), "/config_dump", "GET");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(r.body())
                .contains("\"workloads\": [")
                .contains("\"name\": \"httpbin-1\"")
                .contains("\"hostname\": \"httpbin.default.svc.cluster.local\"")
                .contains("\"kind\": \"AuthorizationPolicy\", \"name\": \"httpbin-from-sleep\"")
                .contains("\"kind\": \"PeerAuthentication\"")
                .contains("\"identity\": \"spiffe://cluster.local/ns/default/sa/httpbin\", \"state\": \"Available\"")
                .contains("\"expirationTime\": \"");
        assertThat(get(mesh.adminAddress(), "/nope", "GET").statusCode()).isEqualTo(404);
        assertThat(get(mesh.adminAddress(), "/quitquitquit", "GET").statusCode())
                .isEqualTo(405);
    }

    @Test
    void adminListensOnLoopbackOnly() {
        assertThat(mesh.adminAddress().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    }
}
