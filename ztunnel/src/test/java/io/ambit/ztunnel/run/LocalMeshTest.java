package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.telemetry.AccessLog;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
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
 * A whole small mesh on loopback (127.77.0.0/16, its own addresses so other tests' listeners do not
 * clash), driven by a real {@code curl --socks5-hostname}: SOCKS5 → HBONE → inbound policy → echo app.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LocalMeshTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.77.1.1"]}
            - {name: curl, namespace: default, serviceAccount: curl, node: node-a, workloadIps: ["127.77.1.2"]}
            - name: httpbin-1
              namespace: default
              serviceAccount: httpbin
              node: node-b
              workloadIps: ["127.77.2.1"]
              labels: {app: httpbin}
              services: {"default/httpbin.default.svc.cluster.local": {8000: 8080}}
            - name: lonely
              namespace: default
              serviceAccount: lonely
              node: node-b
              workloadIps: ["127.77.2.2"]
              status: Unhealthy
              services: {"default/lonely.default.svc.cluster.local": {7000: 7070}}
            services:
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/127.77.10.1"], ports: {8000: 8080}}
            - {name: lonely, namespace: default, hostname: lonely.default.svc.cluster.local, vips: ["/127.77.10.2"], ports: {7000: 7070}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
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
                .withAccessLog(AccessLog.slf4j().and(log::add)));
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    record Curl(int exit, String out) {}

    static Curl curl(String socks, String url) throws Exception {
        var p = new ProcessBuilder("curl", "-sS", "--max-time", "15", "--socks5-hostname", socks, url)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Curl(p.exitValue(), out);
    }

    @Test
    void anAllowedSourceReachesTheServiceByName() throws Exception {
        var r = curl("127.77.1.1:15080", "http://httpbin.default:8000/get");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("hello from httpbin-1").contains("request: GET /get HTTP/1.1");
    }

    @Test
    void anAllowedSourceReachesTheServiceByVipAndFullHostname() throws Exception {
        assertThat(curl("127.77.1.1:15080", "http://127.77.10.1:8000/ip").out()).contains("request: GET /ip");
        assertThat(curl("127.77.1.1:15080", "http://httpbin.default.svc.cluster.local:8000/x")
                        .out())
                .contains("hello from httpbin-1");
    }

    @Test
    void aSourceNoPolicyAllowsIsRefusedAndTheLogNamesThePolicy() throws Exception {
        var r = curl("127.77.1.2:15080", "http://httpbin.default:8000/get");
        assertThat(r.exit()).as(r.out()).isNotZero();
        assertThat(r.out()).doesNotContain("hello from");
        var denied = log.stream()
                .filter(e -> e.direction().equals("inbound")
                        && e.error() != null
                        && e.error().startsWith("401"))
                .filter(e -> "spiffe://cluster.local/ns/default/sa/curl".equals(e.srcIdentity()))
                .findFirst();
        assertThat(denied).isPresent();
        assertThat(denied.get().reason()).isNotBlank();
        assertThat(denied.get().format()).contains("dst.workload=\"httpbin-1\"");
    }

    @Test
    void aServiceWithoutHealthyEndpointsIsRefused() throws Exception {
        var r = curl("127.77.1.1:15080", "http://lonely.default:7000/");
        assertThat(r.exit()).isNotZero();
        assertThat(log).anySatisfy(e -> assertThat(e.error()).contains("no healthy endpoint"));
    }

    @Test
    void anUnknownNameIsNotLookedUp() throws Exception {
        var r = curl("127.77.1.1:15080", "http://nowhere.example:80/");
        assertThat(r.exit()).isNotZero();
        assertThat(log).anySatisfy(e -> assertThat(e.error()).contains("no service named nowhere.example"));
    }

    @Test
    void socksGarbageGetsAnErrorReplyAndTheListenerKeepsServing() throws Exception {
        // offers only username/password: "no acceptable methods"
        assertThat(exchange(new byte[] {5, 1, 2})).containsExactly(5, (byte) 0xFF);
        // BIND instead of CONNECT: "command not supported"
        byte[] bind = {5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80};
        assertThat(exchange(bind)).startsWith(5, 0, 5, 7);
        // address type 9: "address type not supported"
        byte[] type = {5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4};
        assertThat(exchange(type)).startsWith(5, 0, 5, 8);
        // not SOCKS5 at all: closed without a reply
        assertThat(exchange("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))
                .isEmpty();
        // still serving
        assertThat(curl("127.77.1.1:15080", "http://httpbin.default:8000/ok").out())
                .contains("hello from");
    }

    /** Sends bytes, then reads everything until the server closes. */
    static byte[] exchange(byte[] request) throws IOException {
        try (var s = new Socket()) {
            s.setSoTimeout(10_000);
            s.connect(new InetSocketAddress(InetAddress.getByName("127.77.1.1"), 15080), 10_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            return new DataInputStream(s.getInputStream()).readAllBytes();
        }
    }
}
