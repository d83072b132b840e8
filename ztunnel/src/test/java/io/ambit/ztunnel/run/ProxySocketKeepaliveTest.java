package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.node.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every TCP socket the node proxies own on a live path carries ztunnel's keepalive (ztunnel-reference.md
 * §1.4: 180 s idle, 180 s interval, 9 probes), read from the kernel with {@code ss -tno}: on 127.62.0.0/16,
 * a SOCKS5 connection (accepted app socket on 15080, HBONE client socket to 15008, the accepted HBONE
 * socket, the connect to the app) and an inbound plaintext one (accepted on 15006, the connect to the app)
 * are held open while their timers are read. The kernel's own default would show a 2-hour timer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxySocketKeepaliveTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.62.1.1"]}
            - name: httpbin-1
              namespace: default
              serviceAccount: httpbin
              node: node-b
              workloadIps: ["127.62.2.1"]
              labels: {app: httpbin}
              services: {"default/httpbin.default.svc.cluster.local": {8000: 8080}}
            services:
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/127.62.10.1"], ports: {8000: 8080}}
            """;

    /** ss's keepalive timer: {@code timer:(keepalive,2min59sec,0)}, {@code 59sec}, {@code 900ms}. */
    static final Pattern KEEPALIVE_TIMER =
            Pattern.compile("timer:\\(keepalive,(?:(\\d+)min)?(?:(\\d+)sec)?(?:(\\d+)ms)?");

    @TempDir
    static Path dir;

    static LocalMesh mesh;

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
    }

    @Test
    void everyProxySocketOfASocksAndAPlaintextConnectionHasZtunnelsKeepalive() throws Exception {
        var socks = new Proxy(Proxy.Type.SOCKS, new InetSocketAddress(InetAddress.getByName("127.62.1.1"), 15080));
        try (var viaSocks = new Socket(socks);
                var plaintext = new Socket()) {
            // SOCKS5 with a host name: the mesh resolves it; the reply comes once the tunnel is up.
            viaSocks.connect(InetSocketAddress.createUnresolved("httpbin.default", 8000), 10_000);
            plaintext.connect(new InetSocketAddress(InetAddress.getByName("127.62.2.1"), 15006), 10_000);

            // The proxy's sockets (by their well-known ports), both ends of the paths that are held open.
            List<String> expected = List.of(
                    "socks accepted: src 127.62.1.1:15080",
                    "hbone client: dst 127.62.2.1:15008",
                    "hbone accepted: src 127.62.2.1:15008",
                    "app connect: dst 127.62.2.1:8080 #1",
                    "plaintext accepted: src 127.62.2.1:15006",
                    "app connect: dst 127.62.2.1:8080 #2");
            List<String> lines = List.of();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            for (int round = 0; round < 200 && System.nanoTime() < deadline; round++) {
                lines = proxySockets();
                if (lines.size() == expected.size()
                        && lines.stream()
                                .allMatch(l -> KEEPALIVE_TIMER.matcher(l).find())) {
                    break;
                }
                // Bounded poll: the connects to the app complete asynchronously, and a socket whose last bytes
                // are not acknowledged yet shows its retransmission timer ("on") until the ACK comes.
                Thread.sleep(100);
            }
            assertThat(lines)
                    .as("the proxy's established sockets (expected %s) among:%n%s", expected, allSockets())
                    .hasSize(expected.size());
            for (String line : lines) {
                Matcher m = KEEPALIVE_TIMER.matcher(line);
                assertThat(m.find()).as("keepalive timer in: " + line).isTrue();
                long min = m.group(1) == null ? 0 : Long.parseLong(m.group(1));
                long sec = m.group(2) == null ? 0 : Long.parseLong(m.group(2));
                // counts down from 180 s; Linux's default would start at 7200 s (119min...)
                assertThat(min * 60 + sec).as(line).isLessThanOrEqualTo(180).isGreaterThan(60);
            }
        }
    }

    /**
     * Established sockets on 127.62.0.0/16 that belong to the proxies: a local port of 15080, 15008 or 15006,
     * or a peer port of 15008 or 8080 (a proxy's connect to the echo app). The test's own client sockets
     * (peer 15080/15006) and the echo app's accepted sockets (local 8080) are not the proxy's.
     */
    static List<String> proxySockets() throws Exception {
        List<String> mine = new ArrayList<>();
        for (String line : allSockets().lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 4) {
                continue;
            }
            String local = ipv4(f[2]);
            String peer = ipv4(f[3]);
            if (!local.startsWith("127.62.") && !peer.startsWith("127.62.")) {
                continue;
            }
            boolean proxyLocal = local.endsWith(":15080") || local.endsWith(":15008") || local.endsWith(":15006");
            boolean proxyPeer = peer.startsWith("127.62.") && (peer.endsWith(":15008") || peer.endsWith(":8080"));
            if (proxyLocal || proxyPeer) {
                mine.add(line.trim());
            }
        }
        return mine;
    }

    /** {@code [::ffff:127.62.1.1]:15080} (a dual-stack socket) as {@code 127.62.1.1:15080}. */
    static String ipv4(String address) {
        return address.replace("[::ffff:", "").replace("]", "");
    }

    /** {@code ss -Htno state established}: the established TCP sockets with their timers. */
    static String allSockets() throws Exception {
        Process p = new ProcessBuilder("ss", "-Htno", "state", "established")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("ss finished").isTrue();
        assertThat(p.exitValue()).as("ss: " + out).isZero();
        return out;
    }
}
