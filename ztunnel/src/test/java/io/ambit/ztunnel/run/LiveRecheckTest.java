package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.xds.file.ChangeTrigger;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A policy edit re-decides open tunnels (issue 4 item 5): on 127.78.0.0/16 (its own range), two clients
 * hold tunnels to a raw TCP echo app; the file is edited to allow only one of them, the trigger fires, and
 * the other's tunnel is closed with an access-log line naming the policy that now denies it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LiveRecheckTest {
    static final String HEAD = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.78.1.1"]}
            - {name: curl, namespace: default, serviceAccount: curl, node: node-a, workloadIps: ["127.78.1.2"]}
            - {name: echo, namespace: default, serviceAccount: echo, node: node-b, workloadIps: ["127.78.2.1"], labels: {app: echo}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: echo-callers, namespace: default}
            spec:
              selector: {matchLabels: {app: echo}}
              action: ALLOW
              rules:
              - from:
                - source: {principals: [%s]}
            """;

    @TempDir
    Path dir;

    Path file;
    LocalMesh mesh;
    ServerSocket app;
    /** The access-log line of sleep's tunnel, whenever the relay reports it. */
    final CompletableFuture<AccessLog.Entry> sleepLine = new CompletableFuture<>();

    final Trigger trigger = new Trigger();

    /** Fires on the test thread, which so becomes the source's control thread: no sleeps. */
    static final class Trigger implements ChangeTrigger {
        Runnable check;

        @Override
        public void start(Runnable check) {
            this.check = check;
        }

        void fire() {
            check.run();
        }

        @Override
        public void close() {}
    }

    @BeforeEach
    void start() throws Exception {
        app = new ServerSocket();
        app.bind(new InetSocketAddress(InetAddress.getByName("127.78.2.1"), 9090));
        Thread.ofVirtual().start(this::serveEcho);
        file = dir.resolve("mesh.yaml");
        write(
                "\"cluster.local/ns/default/sa/sleep\", \"cluster.local/ns/default/sa/curl\"",
                FileTime.fromMillis(1_000_000));
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca"))
                .withAccessLog(AccessLog.slf4j().and(e -> {
                    if (e.direction().equals("inbound")
                            && "spiffe://cluster.local/ns/default/sa/sleep".equals(e.srcIdentity())) {
                        sleepLine.complete(e);
                    }
                }))
                .withTrigger(trigger));
    }

    @AfterEach
    void stop() throws IOException {
        if (mesh != null) {
            mesh.close();
        }
        app.close();
    }

    private void write(String principals, FileTime mtime) throws IOException {
        Files.writeString(file, HEAD.formatted(principals));
        Files.setLastModifiedTime(file, mtime);
    }

    /** Echoes every byte back, one virtual thread per connection, until the client or the test ends. */
    private void serveEcho() {
        while (!app.isClosed()) {
            try {
                Socket s = app.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException e) {
                        // the tunnel was closed
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    /** A SOCKS5 CONNECT through {@code socks} to the echo app, ready to carry bytes. */
    static Socket tunnel(String socks) throws IOException {
        var s = new Socket();
        s.setSoTimeout(20_000);
        s.connect(new InetSocketAddress(InetAddress.getByName(socks), 15080), 10_000);
        var out = s.getOutputStream();
        out.write(new byte[] {5, 1, 0});
        out.write(new byte[] {5, 1, 0, 1, 127, 78, 2, 1, (byte) (9090 >> 8), (byte) (9090 & 0xFF)});
        out.flush();
        var in = new DataInputStream(s.getInputStream());
        byte[] method = new byte[2];
        in.readFully(method);
        assertThat(method).containsExactly(5, 0);
        byte[] reply = new byte[10];
        in.readFully(reply);
        assertThat(reply[1]).as("SOCKS5 reply code").isZero();
        return s;
    }

    static String roundTrip(Socket s, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(bytes);
        s.getOutputStream().flush();
        byte[] back = new byte[bytes.length];
        new DataInputStream(s.getInputStream()).readFully(back);
        return new String(back, StandardCharsets.UTF_8);
    }

    /** Blocks until the peer ends the connection (EOF or reset); false if it sent data instead. */
    static boolean ended(Socket s) {
        try {
            InputStream in = s.getInputStream();
            return in.read() < 0;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Test
    void anEditThatDeniesAnOpenTunnelClosesItAndLeavesTheAllowedOneOpen() throws Exception {
        try (var fromSleep = tunnel("127.78.1.1");
                var fromCurl = tunnel("127.78.1.2")) {
            assertThat(roundTrip(fromSleep, "ping from sleep")).isEqualTo("ping from sleep");
            assertThat(roundTrip(fromCurl, "ping from curl")).isEqualTo("ping from curl");
            var node = mesh.nodes().stream()
                    .filter(n -> n.name().equals("node-b"))
                    .findFirst()
                    .orElseThrow();
            assertThat(node.liveConnections().size()).isEqualTo(2);

            write("\"cluster.local/ns/default/sa/curl\"", FileTime.fromMillis(2_000_000));
            trigger.fire(); // reloads, then re-checks on this thread

            assertThat(ended(fromSleep)).as("sleep's tunnel is closed").isTrue();
            assertThat(roundTrip(fromCurl, "still here")).isEqualTo("still here");
            assertThat(node.liveConnections().size()).isEqualTo(1);
        }
        var revoked = sleepLine.get(20, TimeUnit.SECONDS);
        assertThat(revoked.error()).startsWith("closed: policy update now denies it: ");
        assertThat(revoked.reason()).isEqualTo(revoked.error().substring(37));
        assertThat(revoked.bytesSent()).isEqualTo("ping from sleep".length());
    }
}
