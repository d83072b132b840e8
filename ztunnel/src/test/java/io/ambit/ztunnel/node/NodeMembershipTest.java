package io.ambit.ztunnel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.ambit.xds.file.ChangeTrigger;
import io.ambit.ztunnel.run.LocalMesh;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's listeners follow the mesh file (issue 4 item 2): on 127.90.1.0/24 and 127.90.2.0/24 (this
 * helper's range), a workload added to a node gets its listeners and can call through them with real
 * {@code curl}, one removed loses them, one whose service account changes speaks with the new identity.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class NodeMembershipTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: sleep, namespace: default, serviceAccount: sleep, node: node-a, workloadIps: ["127.90.1.1"]}
            - {name: app, namespace: default, serviceAccount: app, node: node-b, workloadIps: ["127.90.2.1"]}
            %s
            """;
    static final String LATE =
            "- {name: late, namespace: default, serviceAccount: %s, node: node-a, workloadIps: [\"127.90.1.3\"]}";

    @TempDir
    Path dir;

    Path file;
    LocalMesh mesh;
    HttpServer app;
    final List<AccessLog.Entry> log = new CopyOnWriteArrayList<>();
    final Trigger trigger = new Trigger();
    long mtime = 1_000_000;

    /** Fires on the test thread, which so becomes the source's control thread. */
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
        // the app answers with the peer address it sees
        app = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.90.2.1"), 8080), 16);
        app.createContext("/", ex -> {
            byte[] body = ("peer " + ex.getRemoteAddress().getAddress().getHostAddress() + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        app.start();
        file = dir.resolve("mesh.yaml");
        write("");
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca")).toBuilder()
                .ports(Node.Ports.builder().admin(0).dns(0).build())
                .demos(false)
                .accessLog(AccessLog.slf4j().and(log::add))
                .trigger(trigger)
                .build());
    }

    @AfterEach
    void stop() {
        if (mesh != null) {
            mesh.close();
        }
        if (app != null) {
            app.stop(0);
        }
    }

    private void write(String extra) throws IOException {
        Files.writeString(file, MESH.formatted(extra));
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime += 1000));
    }

    private Node nodeA() {
        return mesh.nodes().stream()
                .filter(n -> n.name().equals("node-a"))
                .findFirst()
                .orElseThrow();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    record Curl(int exit, String out) {}

    static Curl curl(String socks, String url) throws Exception {
        var p = new ProcessBuilder("curl", "-sS", "--max-time", "15", "--socks5", socks, url)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Curl(p.exitValue(), out);
    }

    @Test
    void aWorkloadAddedToTheNodeGetsListenersAndOneRemovedLosesThem() throws Exception {
        var late = new InetSocketAddress(InetAddress.getByName("127.90.1.3"), 15080);
        assertThat(nodeA().socksAddresses()).doesNotContain(late);

        write(LATE.formatted("late"));
        trigger.fire();
        await("late's SOCKS5 listener", () -> nodeA().socksAddresses().contains(late));
        assertThat(nodeA().hboneAddresses()).contains(new InetSocketAddress(late.getAddress(), 15008));
        assertThat(nodeA().workloads()).extracting(w -> w.name()).containsExactly("sleep", "late");

        var r = curl("127.90.1.3:15080", "http://127.90.2.1:8080/");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).startsWith("peer "); // the app answered, through both ztunnels
        await("the tunnel's inbound line with late's identity", () -> inboundFrom("late"));

        write("");
        trigger.fire();
        await("late's listeners closed", () -> !nodeA().socksAddresses().contains(late));
        await("late's SOCKS5 port refuses connections", () -> refuses(late));
        // the node's first workload is untouched
        assertThat(curl("127.90.1.1:15080", "http://127.90.2.1:8080/").out()).startsWith("peer ");
    }

    @Test
    void aWorkloadWhoseServiceAccountChangesSpeaksWithTheNewIdentity() throws Exception {
        write(LATE.formatted("late"));
        trigger.fire();
        var late = new InetSocketAddress(InetAddress.getByName("127.90.1.3"), 15080);
        await("late's SOCKS5 listener", () -> nodeA().socksAddresses().contains(late));
        assertThat(curl("127.90.1.3:15080", "http://127.90.2.1:8080/").exit()).isZero();

        write(LATE.formatted("renamed"));
        trigger.fire();
        await(
                "late reopened as renamed",
                () -> nodeA().workloads().stream()
                                .anyMatch(w -> w.serviceAccount().equals("renamed"))
                        && nodeA().socksAddresses().contains(late));
        assertThat(inboundFrom("renamed")).isFalse();
        var r = curl("127.90.1.3:15080", "http://127.90.2.1:8080/");
        assertThat(r.exit()).as(r.out()).isZero();
        await("the tunnel's inbound line with the new identity", () -> inboundFrom("renamed"));
    }

    /** Whether the destination logged a tunnel from service account {@code sa}. */
    private boolean inboundFrom(String sa) {
        return log.stream()
                .anyMatch(e -> e.direction().equals("inbound")
                        && ("spiffe://cluster.local/ns/default/sa/" + sa).equals(e.srcIdentity()));
    }

    private static boolean refuses(InetSocketAddress address) {
        try (var s = new Socket()) {
            s.connect(address, 1000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
