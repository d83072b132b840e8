package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inbound plaintext on each workload's {@code ip:15006} and the source side's metrics, on 127.81.0.0/16
 * (its own range), with a real {@code curl}: mesh-wide STRICT refuses plaintext, a namespace PERMISSIVE
 * override lets it through to the echo app (still subject to AuthorizationPolicy), and a SOCKS5 call
 * moves the {@code reporter="source"} counters of the caller's node.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PlaintextInboundTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.81.1.1"]}
            - {name: curl, namespace: default, serviceAccount: curl, node: node-a, workloadIps: ["127.81.1.2"]}
            - name: httpbin-1
              namespace: default
              serviceAccount: httpbin
              node: node-b
              workloadIps: ["127.81.2.1"]
              labels: {app: httpbin}
              services: {"default/httpbin.default.svc.cluster.local": {8000: 8080}}
            - name: open-app
              namespace: open
              serviceAccount: open-app
              node: node-b
              workloadIps: ["127.81.2.2"]
              labels: {app: open-app}
              services: {"open/open-app.open.svc.cluster.local": {8000: 8080}}
            - name: guarded
              namespace: open
              serviceAccount: guarded
              node: node-b
              workloadIps: ["127.81.2.3"]
              labels: {app: guarded}
              services: {"open/guarded.open.svc.cluster.local": {8000: 8080}}
            services:
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/127.81.10.1"], ports: {8000: 8080}}
            - {name: open-app, namespace: open, hostname: open-app.open.svc.cluster.local, vips: ["/127.81.10.2"], ports: {8000: 8080}}
            - {name: guarded, namespace: open, hostname: guarded.open.svc.cluster.local, vips: ["/127.81.10.3"], ports: {8000: 8080}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: open}
            spec: {mtls: {mode: PERMISSIVE}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: httpbin-from-sleep, namespace: default}
            spec:
              selector: {matchLabels: {app: httpbin}}
              action: ALLOW
              rules:
              - from:
                - source: {principals: ["cluster.local/ns/default/sa/sleep"]}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: guarded-from-sleep, namespace: open}
            spec:
              selector: {matchLabels: {app: guarded}}
              action: ALLOW
              rules:
              - from:
                - source: {principals: ["cluster.local/ns/default/sa/sleep"]}
            """;

    @TempDir
    static Path dir;

    static LocalMesh mesh;
    static final List<AccessLog.Entry> log = new CopyOnWriteArrayList<>();
    static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

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
        http.close();
    }

    /** A real curl straight at {@code url}: plaintext, no SOCKS5. */
    static LocalMeshTest.Curl plainCurl(String url) throws Exception {
        var p = new ProcessBuilder("curl", "-sS", "--max-time", "15", url)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new LocalMeshTest.Curl(p.exitValue(), out);
    }

    /** The refusal line of plaintext to {@code workload}; refusals are logged before the socket closes. */
    static AccessLog.Entry refusal(String workload) {
        return log.stream()
                .filter(e -> e.direction().equals("inbound")
                        && workload.equals(e.dstWorkload())
                        && e.srcIdentity() == null
                        && e.error() != null)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no plaintext refusal for " + workload + " in " + log));
    }

    static String metrics(String node) throws Exception {
        var at = mesh.nodes().stream()
                .filter(n -> n.name().equals(node))
                .findFirst()
                .orElseThrow()
                .endpointAddresses()
                .getFirst();
        var uri = URI.create("http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + "/metrics");
        var r = http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** The series of plaintext connections to {@code workload} (no mTLS), among others' (HBONE calls). */
    static String plaintextLine(String body, String prefix, String workload) {
        return body.lines()
                .filter(l -> l.startsWith(prefix)
                        && l.contains("destination_workload=\"" + workload + "\"")
                        && l.contains("connection_security_policy=\"unknown\""))
                .findFirst()
                .orElseThrow(
                        () -> new AssertionError("no plaintext " + prefix + " line for " + workload + " in\n" + body));
    }

    @Test
    void meshWideStrictRefusesPlaintextAndTheLogNamesThePeerAuthentication() throws Exception {
        var r = plainCurl("http://127.81.2.1:15006/get");
        assertThat(r.exit()).as(r.out()).isNotZero();
        assertThat(r.out()).doesNotContain("hello from");

        var line = refusal("httpbin-1");
        assertThat(line.error()).isEqualTo("denied by peer-authentication");
        assertThat(line.policy()).isEqualTo("istio-system/default");
        assertThat(line.reason()).contains("STRICT").contains("plaintext");
        assertThat(line.dstAddr()).isEqualTo("127.81.2.1:8080");
        assertThat(line.format()).contains("policy=\"istio-system/default\"");

        assertThat(plaintextLine(metrics("node-b"), "istio_tcp_connections_failed_total{", "httpbin-1"))
                .contains("reporter=\"destination\"")
                .contains("response_flags=\"DENY\"")
                .contains("source_principal=\"unknown\"");
    }

    @Test
    void aNamespacePermissiveOverrideLetsPlaintextThroughToTheApp() throws Exception {
        var r = plainCurl("http://127.81.2.2:15006/get");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("hello from open-app").contains("request: GET /get HTTP/1.1");

        assertThat(plaintextLine(metrics("node-b"), "istio_tcp_connections_opened_total{", "open-app"))
                .contains("reporter=\"destination\"")
                .contains("response_flags=\"-\"");
    }

    @Test
    void permissivePlaintextIsStillSubjectToAuthorizationPolicy() throws Exception {
        var r = plainCurl("http://127.81.2.3:15006/get");
        assertThat(r.exit()).as(r.out()).isNotZero();
        assertThat(r.out()).doesNotContain("hello from");
        var line = refusal("guarded");
        assertThat(line.error()).isEqualTo("denied by authz");
        assertThat(line.reason()).isNotBlank();
    }

    @Test
    void outboundCallsMoveTheSourceReportersCounters() throws Exception {
        var ok = LocalMeshTest.curl("127.81.1.1:15080", "http://open-app.open:8000/get");
        assertThat(ok.exit()).as(ok.out()).isZero();
        assertThat(ok.out()).contains("hello from open-app");
        var denied = LocalMeshTest.curl("127.81.1.2:15080", "http://httpbin.default:8000/get");
        assertThat(denied.exit()).as(denied.out()).isNotZero();

        String body = metrics("node-a");
        assertThat(TelemetryTest.line(body, "istio_tcp_connections_opened_total{", "source_workload=\"sleep\""))
                .contains("reporter=\"source\"")
                .contains("source_principal=\"spiffe://cluster.local/ns/default/sa/sleep\"")
                .contains("destination_service=\"open-app.open.svc.cluster.local\"")
                .contains("destination_service_namespace=\"open\"")
                .contains("destination_service_name=\"open-app\"")
                .contains("destination_workload=\"open-app\"")
                .contains("destination_principal=\"spiffe://cluster.local/ns/open/sa/open-app\"")
                .contains("response_flags=\"-\"")
                .contains("connection_security_policy=\"mutual_tls\"")
                .endsWith(" 1.0");
        assertThat(TelemetryTest.line(body, "istio_tcp_connections_failed_total{", "source_workload=\"curl\""))
                .contains("reporter=\"source\"")
                .contains("destination_workload=\"httpbin-1\"")
                .contains("response_flags=\"DENY\"")
                .endsWith(" 1.0");
        assertThat(TelemetryTest.line(body, "istio_tcp_connections_closed_total{", "source_workload=\"curl\""))
                .contains("reporter=\"source\"")
                .contains("response_flags=\"DENY\"");
    }
}
