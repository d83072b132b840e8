package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.hbone.tls.TlsSettings;
import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.zds.Version;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-pod capture for real, without Kubernetes (issue 4 item 6): two "nodes" and three "pods" as network
 * namespaces joined by veth pairs and routed (node1: pod-a and an unmeshed client; node2: pod-b), the
 * shipped {@code scripts/ambit-inpod-redirect.sh} installed in the meshed pods, and one in-process
 * ztunnel ({@link InPodProxies}) per node, each handed its pods' namespace descriptors over ZDS by a fake
 * CNI agent. Real {@code curl} in pod-a reaches a real Node.js HTTP server in pod-b through HBONE; a
 * {@code tcpdump} on the link between the nodes sees only TLS to 15008; the app sees pod-a's own IP.
 *
 * <p>Needs root, {@code ip}, {@code iptables}, {@code curl}, {@code node} and {@code tcpdump}; skipped
 * (with the reason) otherwise. Everything lives in namespaces named {@code ambit-t-*}, deleted at the end.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InPodCaptureTest {
    static final String POD_A = "Kubernetes//Pod/default/pod-a";
    static final String POD_B = "Kubernetes//Pod/default/pod-b";
    static final String LATE = "Kubernetes//Pod/default/pod-late";
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: pod-a, namespace: default, serviceAccount: sleep, node: node1, workloadIps: ["10.190.1.2"]}
            - name: pod-b
              namespace: default
              serviceAccount: httpbin
              node: node2
              workloadIps: ["10.190.2.2"]
              labels: {app: httpbin}
              services: {"default/httpbin.default.svc.cluster.local": {80: 8080}}
            %s
            services:
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/10.190.100.1"], ports: {80: 8080}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            """;
    static final String LATE_WORKLOAD =
            "- {name: pod-late, namespace: default, serviceAccount: late, node: node2, workloadIps: [\"10.190.2.9\"]}";

    @TempDir
    static Path dir;

    static NetnsLab lab;
    static TestMesh mesh;
    static FakeCniAgent agent1;
    static FakeCniAgent agent2;
    static InPodProxies node1;
    static InPodProxies node2;
    static Path script;
    static final SimpleMeterRegistry registry1 = new SimpleMeterRegistry();
    static final SimpleMeterRegistry registry2 = new SimpleMeterRegistry();

    @BeforeAll
    static void setUp() throws Exception {
        Optional<String> missing = NetnsLab.unavailable("ip", "iptables", "curl", "node", "tcpdump", "ss");
        assumeTrue(missing.isEmpty(), () -> "skipped: " + missing.orElseThrow());
        script = locateScript();
        lab = new NetnsLab();
        for (var ns : new String[] {"n1", "n2", "pa", "pb", "pc", "pd"}) {
            lab.add(ns);
        }
        lab.link("pa", "eth0", "10.190.1.2/24", "n1", "va", "10.190.1.1/24");
        lab.link("pc", "eth0", "10.190.3.2/24", "n1", "vc", "10.190.3.1/24");
        lab.link("pb", "eth0", "10.190.2.2/24", "n2", "vb", "10.190.2.1/24");
        lab.link("n1", "l12", "10.190.0.1/30", "n2", "l21", "10.190.0.2/30");
        lab.in("pa", "ip", "route", "add", "default", "via", "10.190.1.1");
        lab.in("pc", "ip", "route", "add", "default", "via", "10.190.3.1");
        lab.in("pb", "ip", "route", "add", "default", "via", "10.190.2.1");
        lab.in("n1", "sysctl", "-qw", "net.ipv4.ip_forward=1");
        lab.in("n2", "sysctl", "-qw", "net.ipv4.ip_forward=1");
        lab.in("n1", "ip", "route", "add", "10.190.2.0/24", "via", "10.190.0.2");
        lab.in("n2", "ip", "route", "add", "10.190.1.0/24", "via", "10.190.0.1");
        lab.in("n2", "ip", "route", "add", "10.190.3.0/24", "via", "10.190.0.1");
        // the CNI agent's part: capture in the meshed pods
        lab.in("pa", script.toString());
        lab.in("pb", script.toString());
        lab.in("pd", script.toString());

        // pod-b's app: answers with the peer address it sees
        lab.start(
                "pb",
                dir.resolve("app.log"),
                "node",
                "-e",
                "require('http').createServer((q, s) => s.end('peer ' + q.socket.remoteAddress + '\\n'))"
                        + ".listen(8080, '0.0.0.0')");
        awaitListening("pb", 8080);

        mesh = new TestMesh(dir, MESH.formatted(""));
        agent1 = new FakeCniAgent(dir.resolve("node1.sock"));
        agent2 = new FakeCniAgent(dir.resolve("node2.sock"));
        node1 = InPodProxies.start(config(dir.resolve("node1.sock"), registry1));
        node2 = InPodProxies.start(config(dir.resolve("node2.sock"), registry2));
        assertThat(agent1.accept().getVersion()).isEqualTo(Version.V1);
        assertThat(agent2.accept().getVersion()).isEqualTo(Version.V1);
        assertThat(add(agent1, POD_A, "pod-a", "sleep", "pa")).isEmpty();
        assertThat(agent1.snapshotSent()).isEmpty();
        assertThat(add(agent2, POD_B, "pod-b", "httpbin", "pb")).isEmpty();
        assertThat(agent2.snapshotSent()).isEmpty();
        assertThat(node1.ready()).as(node1.notReadyBecause().toString()).isTrue();
        assertThat(node2.ready()).as(node2.notReadyBecause().toString()).isTrue();
        awaitListening("pa", 15001);
        awaitListening("pb", 15008);
    }

    static InPodProxies.Config config(Path socket, SimpleMeterRegistry registry) {
        return new InPodProxies.Config(
                socket,
                mesh.source,
                mesh.certificates,
                TlsSettings.defaults(),
                mesh.transport,
                mesh.group,
                mesh.accessLog,
                registry,
                InPodProxies.Ports.DEFAULT,
                Duration.ofSeconds(1));
    }

    /** Hands over namespace {@code ns} as a CNI agent does: open it, send the descriptor, close ours. */
    static String add(FakeCniAgent agent, String uid, String name, String sa, String ns) throws Exception {
        try (var netns = NetnsFd.open(lab.path(ns))) {
            return agent.add(uid, name, "default", sa, netns.fd());
        }
    }

    @AfterAll
    static void tearDown() {
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

    static Path locateScript() {
        for (var p :
                new Path[] {Path.of("scripts/ambit-inpod-redirect.sh"), Path.of("../scripts/ambit-inpod-redirect.sh")
                }) {
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException(
                "scripts/ambit-inpod-redirect.sh not found from " + Path.of("").toAbsolutePath());
    }

    static void awaitListening(String ns, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            var r = lab.exec(ns, Duration.ofSeconds(10), "ss", "-Hltn", "sport = :" + port);
            if (r.exit() == 0 && !r.out().isBlank()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nothing listens on :" + port + " in " + ns + " within 20 s");
            }
            Thread.sleep(50);
        }
    }

    static NetnsLab.Result curl(String ns, String... args) throws Exception {
        var cmd = new java.util.ArrayList<>(java.util.List.of("curl", "-sS", "--max-time", "8"));
        cmd.addAll(java.util.List.of(args));
        return lab.exec(ns, Duration.ofSeconds(20), cmd.toArray(String[]::new));
    }

    /** An access-log line matching {@code what}, waited for (lines are written when connections end). */
    static AccessLog.Entry logged(String description, java.util.function.Predicate<AccessLog.Entry> what)
            throws InterruptedException {
        TestMesh.await(
                description, Duration.ofSeconds(15), () -> mesh.log.stream().anyMatch(what));
        return mesh.log.stream().filter(what).findFirst().orElseThrow();
    }

    @Test
    @Order(1)
    void curlInPodAReachesTheAppInPodBThroughHboneAndTheAppSeesPodAsOwnIp() throws Exception {
        var direct = curl("pa", "http://10.190.2.2:8080/direct");
        assertThat(direct.exit()).as(direct.out()).isZero();
        assertThat(direct.out()).isEqualTo("peer 10.190.1.2\n");

        var viaVip = curl("pa", "http://10.190.100.1:80/vip");
        assertThat(viaVip.exit()).as(viaVip.out()).isZero();
        assertThat(viaVip.out()).isEqualTo("peer 10.190.1.2\n");

        var out = logged(
                "pod-a's outbound line to the VIP",
                e -> e.direction().equals("outbound") && "httpbin.default.svc.cluster.local".equals(e.dstService()));
        assertThat(out.srcWorkload()).isEqualTo("pod-a");
        assertThat(out.dstHboneAddr()).isEqualTo("10.190.2.2:15008");
        assertThat(out.dstAddr()).isEqualTo("10.190.2.2:8080");
        var in = logged(
                "pod-b's inbound line",
                e -> e.direction().equals("inbound")
                        && "spiffe://cluster.local/ns/default/sa/sleep".equals(e.srcIdentity()));
        assertThat(in.dstWorkload()).isEqualTo("pod-b");
        assertThat(in.error()).isNull();

        // the workload manager's and the traffic metrics, as ztunnel names them
        assertThat(registry2.get("workload_manager_active_proxy_count").gauge().value())
                .isEqualTo(1.0);
        assertThat(registry2.get("workload_manager_pending_proxy_count").gauge().value())
                .isZero();
        assertThat(registry1.get("workload_manager_proxies_started").counter().count())
                .isEqualTo(1.0);
        assertThat(registry1
                        .get("istio_tcp_connections_opened")
                        .tag("reporter", "source")
                        .tag("source_workload", "pod-a")
                        .counters()
                        .stream()
                        .mapToDouble(c -> c.count())
                        .sum())
                .isGreaterThanOrEqualTo(2.0);
        assertThat(registry2
                        .get("istio_tcp_connections_opened")
                        .tag("reporter", "destination")
                        .tag("connection_security_policy", "mutual_tls")
                        .counters()
                        .stream()
                        .mapToDouble(c -> c.count())
                        .sum())
                .isGreaterThanOrEqualTo(2.0);
    }

    @Test
    @Order(2)
    void theLinkBetweenTheNodesCarriesOnlyTlsToPort15008() throws Exception {
        Path pcap = dir.resolve("link.pcap");
        Path tcpdumpLog = dir.resolve("tcpdump.log");
        var tcpdump = lab.start(
                "n1",
                tcpdumpLog,
                "tcpdump",
                "-i",
                "l12",
                "-nn",
                "-U",
                "--immediate-mode",
                "-Z",
                "root",
                "-c",
                "2000",
                "-w",
                pcap.toString(),
                "tcp");
        TestMesh.await(
                "tcpdump listening",
                Duration.ofSeconds(10),
                () -> Files.exists(tcpdumpLog) && read(tcpdumpLog).contains("listening on"));
        String marker = "plaintext-marker-" + System.nanoTime();
        var r = curl("pa", "-H", "X-Marker: " + marker, "--data", marker, "http://10.190.2.2:8080/secret");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).isEqualTo("peer 10.190.1.2\n");
        // the request and the answer crossed the link before curl printed; wait until tcpdump wrote them
        TestMesh.await("the exchange in the capture", Duration.ofSeconds(10), () -> hbonePackets(pcap) >= 2);
        NetnsLab.stop(tcpdump);

        var notHbone = lab.host("tcpdump", "-r", pcap.toString(), "-nn", "tcp and not port 15008");
        assertThat(notHbone.out().lines().filter(l -> l.contains(" IP ")))
                .as("non-15008 packets")
                .isEmpty();
        var hbone = lab.host("tcpdump", "-r", pcap.toString(), "-nn", "tcp port 15008");
        assertThat(hbone.out().lines().filter(l -> l.contains("10.190.2.2.15008")))
                .isNotEmpty();
        var payloads = lab.host("tcpdump", "-r", pcap.toString(), "-nn", "-A");
        assertThat(payloads.out())
                .doesNotContain(marker)
                .doesNotContain("GET /")
                .doesNotContain("POST /")
                .doesNotContain("peer 10.190");
    }

    @Test
    @Order(3)
    void plaintextIntoAStrictPodIsRefused() throws Exception {
        var r = curl("pc", "http://10.190.2.2:8080/plain");
        assertThat(r.exit()).as(r.out()).isNotZero();
        assertThat(r.out()).doesNotContain("peer ");
        var refused = logged(
                "pod-b's refusal of the plaintext connection",
                e -> e.direction().equals("inbound")
                        && e.srcAddr() != null
                        && e.srcAddr().startsWith("10.190.3.2:"));
        assertThat(refused.dstWorkload()).isEqualTo("pod-b");
        assertThat(refused.srcIdentity()).isNull();
        assertThat(refused.error()).startsWith("denied by");
        assertThat(refused.responseFlags()).isEqualTo("DENY");
        assertThat(refused.dstAddr()).isEqualTo("10.190.2.2:8080"); // the port dialed, from TPROXY
    }

    @Test
    @Order(4)
    void aPodCannotReachTheAdminPortNorLoopIntoZtunnelsListeners() throws Exception {
        for (var url : new String[] {"http://127.0.0.1:15000/config_dump", "http://10.190.1.2:15000/config_dump"}) {
            var r = curl("pa", url);
            assertThat(r.exit()).as(url + ": " + r.out()).isEqualTo(7); // could not connect: no admin in a pod
        }
        int before = mesh.log.size();
        for (var url : new String[] {
            "http://127.0.0.1:15001/", "http://10.190.1.2:15001/", "http://10.190.1.2:15006/", "http://127.0.0.1:15006/"
        }) {
            var r = curl("pa", url);
            assertThat(r.exit()).as(url + ": " + r.out()).isNotZero();
            assertThat(r.out()).doesNotContain("peer ");
        }
        TestMesh.await("four refusals logged", Duration.ofSeconds(15), () -> mesh.log.size() >= before + 4);
        var refusals = mesh.log.subList(before, mesh.log.size());
        assertThat(refusals).allSatisfy(e -> assertThat(e.error()).isNotNull());
        assertThat(refusals)
                .anySatisfy(e -> assertThat(e.error()).contains("self-call to ztunnel port 15001"))
                .anySatisfy(e -> assertThat(e.error()).contains("self-call to ztunnel port 15006"));
        // still serving
        assertThat(curl("pa", "http://10.190.2.2:8080/after").out()).isEqualTo("peer 10.190.1.2\n");
    }

    @Test
    @Order(5)
    void anUnknownUidWaitsUntilTheMeshHasIt() throws Exception {
        assertThat(add(agent2, LATE, "pod-late", "late", "pd")).isEmpty();
        assertThat(node2.ready()).isFalse();
        assertThat(node2.pending()).singleElement().asString().startsWith(LATE + " (uid not in the mesh yet)");
        assertThat(node2.notReadyBecause()).anySatisfy(r -> assertThat(r).contains(LATE));

        mesh.update(MESH.formatted(LATE_WORKLOAD));
        TestMesh.await("pod-late proxied", Duration.ofSeconds(30), () -> node2.running() == 2 && node2.ready());
        awaitListening("pd", 15008);

        assertThat(agent2.del(LATE)).isEmpty();
        TestMesh.await("pod-late's proxy gone", Duration.ofSeconds(10), () -> node2.running() == 1);
        awaitClosed("pd", 15008);
    }

    @Test
    @Order(6)
    void aPodDeletedAndAddedAgainIsServedAgain() throws Exception {
        assertThat(agent2.del(POD_B)).isEmpty();
        awaitClosed("pb", 15008);
        var gone = curl("pa", "--max-time", "3", "http://10.190.2.2:8080/gone");
        assertThat(gone.exit()).isNotZero();

        assertThat(add(agent2, POD_B, "pod-b", "httpbin", "pb")).isEmpty();
        awaitListening("pb", 15008);
        var back = curl("pa", "http://10.190.2.2:8080/back");
        assertThat(back.exit()).as(back.out()).isZero();
        assertThat(back.out()).isEqualTo("peer 10.190.1.2\n");
    }

    @Test
    @Order(7)
    void aResentAddAfterAReconnectKeepsTheProxyAndASnapshotDropsPodsNotInIt() throws Exception {
        agent2.disconnect();
        assertThat(agent2.accept().getVersion()).isEqualTo(Version.V1);
        // same namespace again: a resend, nothing changes
        assertThat(add(agent2, POD_B, "pod-b", "httpbin", "pb")).isEmpty();
        assertThat(agent2.snapshotSent()).isEmpty();
        assertThat(node2.running()).isEqualTo(1);
        assertThat(curl("pa", "http://10.190.2.2:8080/resent").out()).isEqualTo("peer 10.190.1.2\n");

        // a snapshot without pod-b: its proxy goes
        agent2.disconnect();
        assertThat(agent2.accept().getVersion()).isEqualTo(Version.V1);
        assertThat(agent2.snapshotSent()).isEmpty();
        TestMesh.await("pod-b dropped", Duration.ofSeconds(10), () -> node2.running() == 0);
        awaitClosed("pb", 15008);
        // and back, for whatever runs after
        assertThat(add(agent2, POD_B, "pod-b", "httpbin", "pb")).isEmpty();
        awaitListening("pb", 15008);
    }

    @Test
    @Order(8)
    void aZdsInfoThatContradictsTheMeshIsRefused() throws Exception {
        String ack = add(agent1, POD_A, "pod-a", "someone-else", "pd");
        assertThat(ack).isEqualTo("pod " + POD_A + ": ZDS says service account someone-else, the mesh says sleep");
    }

    @Test
    @Order(9)
    void aDestinationOutsideTheMeshIsPassedThroughFromThePodItself() throws Exception {
        lab.start(
                "pc",
                dir.resolve("outside.log"),
                "node",
                "-e",
                "require('http').createServer((q, s) => s.end('outside sees ' + q.socket.remoteAddress + '\\n'))"
                        + ".listen(9000, '0.0.0.0')");
        awaitListening("pc", 9000);
        var r = curl("pa", "http://10.190.3.2:9000/");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).isEqualTo("outside sees 10.190.1.2\n"); // from the pod's namespace, not the node's
        var line = logged(
                "the passthrough's line",
                e -> e.direction().equals("outbound") && "10.190.3.2:9000".equals(e.dstAddr()));
        assertThat(line.dstHboneAddr()).isNull();
        assertThat(line.srcWorkload()).isEqualTo("pod-a");
    }

    @Test
    @Order(10)
    void everySocketZtunnelOpensInAPodCarriesTheMark() throws Exception {
        assertThat(curl("pa", "http://10.190.2.2:8080/mark").out()).isEqualTo("peer 10.190.1.2\n");
        for (int port : new int[] {15001, 15006, 15008}) {
            var listener = lab.in("pa", "ss", "-Hltne", "sport = :" + port).out();
            assertThat(listener).as("listener :" + port).contains("fwmark:0x539");
        }
        // the pooled HBONE connection pod-a opened to pod-b
        var hbone =
                lab.in("pa", "ss", "-Htne", "dst 10.190.2.2 and dport = :15008").out();
        assertThat(hbone).contains("fwmark:0x539");
    }

    static void awaitClosed(String ns, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            var r = lab.exec(ns, Duration.ofSeconds(10), "ss", "-Hltn", "sport = :" + port);
            if (r.exit() == 0 && r.out().isBlank()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(":" + port + " still listening in " + ns + " after 20 s: " + r.out());
            }
            Thread.sleep(50);
        }
    }

    /** Packets to or from pod-b's 15008 in the capture so far. */
    static long hbonePackets(Path pcap) {
        try {
            return lab.host("tcpdump", "-r", pcap.toString(), "-nn", "tcp port 15008")
                    .out()
                    .lines()
                    .filter(l -> l.contains("10.190.2.2.15008"))
                    .count();
        } catch (Exception e) {
            return 0; // not written yet
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
