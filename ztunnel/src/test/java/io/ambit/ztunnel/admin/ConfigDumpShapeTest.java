package io.ambit.ztunnel.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.run.LocalMesh;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /config_dump} as {@code istioctl ztunnel-config} reads it (ztunnel-reference §7.3): decoded into
 * typed Go structs, so a field of the wrong JSON type (say {@code "rules": 2} where ztunnel has
 * {@code [[[match]]]}, or a hexadecimal serial number where istioctl parses base 10) breaks every
 * {@code ztunnel-config} command. The dump of a running mesh (127.133.1.x) is checked by an independent
 * reader, Node's JSON parser and X509Certificate, against those types ({@code config-dump-shape.js}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConfigDumpShapeTest {
    private static final String NODE = "/usr/bin/node";
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: shop, serviceAccount: sleep, node: node-a, workloadIps: ["127.133.1.1"]}
            - name: web-7d9f-abcde
              workloadName: web
              namespace: shop
              serviceAccount: web
              node: node-b
              workloadIps: ["127.133.1.2"]
              labels: {app: web, version: v2}
              services: {"shop/web.shop.svc.cluster.local": {80: 8080}}
            services:
            - {name: web, namespace: shop, hostname: web.shop.svc.cluster.local, vips: ["/127.133.2.1"], ports: {80: 8080}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: web-allow, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              action: ALLOW
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/sleep"], namespaces: ["shop*"]}},
                       {source: {serviceAccounts: ["sleep", "other/x"], ipBlocks: ["127.133.1.0/24"]}}]
                to: [{operation: {ports: ["8080"]}}]
                when: [{key: source.ip, notValues: ["10.0.0.1"]}]
              - to: [{operation: {methods: [GET]}}]
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-posts, namespace: shop}
            spec:
              action: DENY
              rules:
              - to: [{operation: {methods: [POST], ports: ["9090"]}}]
              - from: [{source: {notPrincipals: ["*"]}}]
                when: [{key: "request.headers[x-a]", values: ["1"]}]
            """;

    @TempDir
    Path dir;

    @Test
    void istioctlCanDecodeTheDumpAndItsCertificates() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of(NODE)), "node is not installed at " + NODE);
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        try (var mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                        .withPorts(Node.Ports.builder().admin(0).dns(0).build()));
                var http = HttpClient.newBuilder()
                        .connectTimeout(Duration.ofSeconds(10))
                        .build()) {
            var at = mesh.adminAddress();
            var dump = http.send(
                            HttpRequest.newBuilder(URI.create("http://"
                                            + at.getAddress().getHostAddress() + ":" + at.getPort() + "/config_dump"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();

            String verdict = check(dump);

            assertThat(verdict).as(dump).startsWith("{\"ok\":true");
            assertThat(verdict).contains("\"workloads\":2").contains("\"policies\":3");
            assertThat(dump)
                    .contains("\"workloadIps\": [\"127.133.1.2\"]")
                    .contains("\"workloadName\": \"web\"")
                    .contains("\"canonicalName\": \"web\", \"canonicalRevision\": \"v2\"")
                    .contains("\"status\": \"Healthy\"")
                    .contains("\"name\": \"istio_converted_static_strict\"")
                    .contains("\"scope\": \"WorkloadSelector\", \"action\": \"Allow\"")
                    .contains("\"scope\": \"Namespace\", \"action\": \"Deny\"")
                    // the ALLOW rule with methods is dropped; the DENY one keeps its port and loses the method
                    .contains("[{\"destinationPorts\": [9090]}]")
                    .contains("{\"Prefix\": \"shop\"}")
                    .contains("{\"namespace\": \"shop\", \"serviceAccount\": \"sleep\"}")
                    .contains("\"sourceIps\": [\"127.133.1.0/24\"]")
                    .contains("[{\"notSourceIps\": [\"10.0.0.1/32\"]}]");
        }
    }

    /** What the checker script prints for {@code dump}. */
    private static String check(String dump) throws Exception {
        String script = Path.of(ConfigDumpShapeTest.class
                        .getResource("/admin/config-dump-shape.js")
                        .toURI())
                .toString();
        Process p = new ProcessBuilder(NODE, script).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(dump.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the checker ends").isTrue();
        return out.strip();
    }
}
