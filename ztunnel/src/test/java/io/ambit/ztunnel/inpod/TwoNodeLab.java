package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.zds.Version;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * What the in-pod capture tests share: two "nodes" and three "pods" as network namespaces with IPv4 and IPv6
 * addresses on their veths (10.190.x.0/24, fd00:a6b1:x::/64), routed — node1 ({@code n1}): pod-a ({@code pa}) and
 * an unmeshed client ({@code pc}); node2 ({@code n2}): pod-b ({@code pb}); the nodes joined by link
 * {@code l12}/{@code l21}; pod-a with {@code net.ipv6.bindv6only=1} — the shipped {@code scripts/ambit-inpod-redirect.sh} installed in pod-a and pod-b (both
 * families: they have a ULA), a Node.js app in pod-b on 8080 answering {@code peer <address it sees>}, and one
 * in-process ztunnel ({@link InPodProxies}) per node over one mesh file, handed its pod over ZDS by a fake CNI
 * agent. {@link #close()} undoes it all.
 */
final class TwoNodeLab implements AutoCloseable {
    static final String POD_A = "Kubernetes//Pod/default/pod-a";
    static final String POD_B = "Kubernetes//Pod/default/pod-b";

    final NetnsLab lab = new NetnsLab();
    final Path dir;
    final Path script = NetnsLab.script();
    final SimpleMeterRegistry registry1 = new SimpleMeterRegistry();
    final SimpleMeterRegistry registry2 = new SimpleMeterRegistry();
    TestMesh mesh;
    FakeCniAgent agent1;
    FakeCniAgent agent2;
    InPodProxies node1;
    InPodProxies node2;

    private TwoNodeLab(Path dir) {
        this.dir = dir;
    }

    /**
     * Builds it all: the namespaces and their capture, pod-b's app listening on {@code appHost} (for example
     * {@code 0.0.0.0}, or {@code ::} for both families), the ztunnels with {@code meshYaml}, pod-a and pod-b handed
     * over and listening. On failure what was made is closed.
     */
    static TwoNodeLab start(Path dir, String meshYaml, String appHost) throws Exception {
        var self = new TwoNodeLab(dir);
        try {
            self.network();
            self.app(appHost);
            self.nodes(meshYaml);
            return self;
        } catch (Exception | Error e) {
            self.close();
            throw e;
        }
    }

    private void network() throws Exception {
        for (var ns : new String[] {"n1", "n2", "pa", "pb", "pc"}) {
            lab.add(ns);
        }
        // pod (namespace, its node, the node's end of the veth, subnet number)
        for (var pod : new String[][] {{"pa", "n1", "va", "1"}, {"pc", "n1", "vc", "3"}, {"pb", "n2", "vb", "2"}}) {
            String x = pod[3];
            lab.link(pod[0], "eth0", "10.190." + x + ".2/24", pod[1], pod[2], "10.190." + x + ".1/24");
            lab.address(pod[0], "eth0", "fd00:a6b1:" + x + "::2/64");
            lab.address(pod[1], pod[2], "fd00:a6b1:" + x + "::1/64");
            lab.in(pod[0], "ip", "route", "add", "default", "via", "10.190." + x + ".1");
            lab.in(pod[0], "ip", "-6", "route", "add", "default", "via", "fd00:a6b1:" + x + "::1");
        }
        lab.link("n1", "l12", "10.190.0.1/30", "n2", "l21", "10.190.0.2/30");
        lab.address("n1", "l12", "fd00:a6b1::1/64");
        lab.address("n2", "l21", "fd00:a6b1::2/64");
        for (var node : new String[] {"n1", "n2"}) {
            lab.in(node, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            lab.in(node, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1");
        }
        lab.in("n1", "ip", "route", "add", "10.190.2.0/24", "via", "10.190.0.2");
        lab.in("n2", "ip", "route", "add", "10.190.1.0/24", "via", "10.190.0.1");
        lab.in("n2", "ip", "route", "add", "10.190.3.0/24", "via", "10.190.0.1");
        lab.in("n1", "ip", "-6", "route", "add", "fd00:a6b1:2::/64", "via", "fd00:a6b1::2");
        lab.in("n2", "ip", "-6", "route", "add", "fd00:a6b1:1::/64", "via", "fd00:a6b1::1");
        lab.in("n2", "ip", "-6", "route", "add", "fd00:a6b1:3::/64", "via", "fd00:a6b1::1");
        // pod-a's IPv6 sockets default to v6-only, as on hosts with that setting: ztunnel's [::] listeners there must
        // still take the pod's IPv4 connections (they turn IPV6_V6ONLY off themselves)
        lab.in("pa", "sysctl", "-qw", "net.ipv6.bindv6only=1");
        // the CNI agent's part: capture in the meshed pods
        lab.in("pa", script.toString());
        lab.in("pb", script.toString());
    }

    private void app(String host) throws Exception {
        lab.start(
                "pb",
                dir.resolve("app.log"),
                "node",
                "-e",
                "require('http').createServer((q, s) => s.end('peer ' + q.socket.remoteAddress + '\\n'))"
                        + ".listen(8080, '" + host + "')");
        lab.awaitListening("pb", 8080);
    }

    private void nodes(String meshYaml) throws Exception {
        mesh = new TestMesh(dir, meshYaml);
        agent1 = new FakeCniAgent(dir.resolve("node1.sock"));
        agent2 = new FakeCniAgent(dir.resolve("node2.sock"));
        node1 = InPodProxies.start(mesh.inPodConfig(dir.resolve("node1.sock"), registry1, null));
        node2 = InPodProxies.start(mesh.inPodConfig(dir.resolve("node2.sock"), registry2, null));
        assertThat(agent1.accept().getVersion()).isEqualTo(Version.V1);
        assertThat(agent2.accept().getVersion()).isEqualTo(Version.V1);
        assertThat(add(agent1, POD_A, "pod-a", "sleep", "pa")).isEmpty();
        assertThat(agent1.snapshotSent()).isEmpty();
        assertThat(add(agent2, POD_B, "pod-b", "httpbin", "pb")).isEmpty();
        assertThat(agent2.snapshotSent()).isEmpty();
        assertThat(node1.ready()).as(node1.notReadyBecause().toString()).isTrue();
        assertThat(node2.ready()).as(node2.notReadyBecause().toString()).isTrue();
        lab.awaitListening("pa", 15001);
        lab.awaitListening("pb", 15008);
    }

    /** Hands over namespace {@code ns} as a CNI agent does: open it, send the descriptor, close ours. */
    String add(FakeCniAgent agent, String uid, String name, String sa, String ns) throws Exception {
        try (var netns = NetnsFd.open(lab.path(ns))) {
            return agent.add(uid, name, "default", sa, netns.fd());
        }
    }

    /** {@code curl -sS -g --max-time 8 ARGS} in namespace {@code ns} (-g: {@code [v6]} URLs as they are). */
    NetnsLab.Result curl(String ns, String... args) throws Exception {
        var cmd = new ArrayList<>(List.of("curl", "-sS", "-g", "--max-time", "8"));
        cmd.addAll(List.of(args));
        return lab.exec(ns, Duration.ofSeconds(20), cmd.toArray(String[]::new));
    }

    /** The first access-log line matching {@code what}, waited for (lines are written when connections end). */
    AccessLog.Entry logged(String description, Predicate<AccessLog.Entry> what) throws InterruptedException {
        TestMesh.await(
                description, Duration.ofSeconds(15), () -> mesh.log.stream().anyMatch(what));
        return mesh.log.stream().filter(what).findFirst().orElseThrow();
    }

    /** A capture of the TCP crossing between the nodes (node1's end of their link). */
    LinkCapture captureLink(String name) throws Exception {
        return LinkCapture.start(lab, "n1", "l12", dir, name);
    }

    @Override
    public void close() {
        for (AutoCloseable c : new AutoCloseable[] {node1, node2, agent1, agent2, mesh, lab}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("teardown: " + e);
                }
            }
        }
    }
}
