package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.inpod.zds.Version;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
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
 * In-pod capture for real, without Kubernetes (issue 4 item 6), over IPv4: the {@link TwoNodeLab} (two "nodes",
 * pod-a and an unmeshed client on node1, pod-b on node2, the shipped {@code scripts/ambit-inpod-redirect.sh} in
 * the meshed pods, one in-process ztunnel per node handed its pods over ZDS by a fake CNI agent). Real
 * {@code curl} in pod-a reaches a real Node.js HTTP server in pod-b through HBONE; a {@code tcpdump} on the link
 * between the nodes sees only TLS to 15008; the app sees pod-a's own IP. ({@link InPodDualStackCaptureTest}:
 * the same over IPv6.)
 *
 * <p>Needs root (skipped otherwise), {@code ip}, {@code iptables}, {@code curl}, {@code node} and {@code tcpdump}
 * (failing without them: CI has them). Everything lives in namespaces named {@code v6-*}, deleted at the end.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InPodCaptureTest {
    static final String POD_A = TwoNodeLab.POD_A;
    static final String POD_B = TwoNodeLab.POD_B;
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

    static TwoNodeLab pods;
    static NetnsLab lab;
    static TestMesh mesh;
    static FakeCniAgent agent1;
    static FakeCniAgent agent2;
    static InPodProxies node1;
    static InPodProxies node2;
    static SimpleMeterRegistry registry1;
    static SimpleMeterRegistry registry2;

    @BeforeAll
    static void setUp() throws Exception {
        NetnsLab.require("ip", "iptables", "ip6tables", "curl", "node", "tcpdump", "ss");
        pods = TwoNodeLab.start(dir, MESH.formatted(""), "0.0.0.0");
        lab = pods.lab;
        mesh = pods.mesh;
        agent1 = pods.agent1;
        agent2 = pods.agent2;
        node1 = pods.node1;
        node2 = pods.node2;
        registry1 = pods.registry1;
        registry2 = pods.registry2;
        // a pod handed over later (pod-late): captured already, no network needed
        lab.add("pd");
        lab.in("pd", pods.script.toString());
    }

    @AfterAll
    static void tearDown() {
        if (pods != null) {
            pods.close();
        }
    }

    @Test
    @Order(1)
    void curlInPodAReachesTheAppInPodBThroughHboneAndTheAppSeesPodAsOwnIp() throws Exception {
        var direct = pods.curl("pa", "http://10.190.2.2:8080/direct");
        assertThat(direct.exit()).as(direct.out()).isZero();
        assertThat(direct.out()).isEqualTo("peer 10.190.1.2\n");

        var viaVip = pods.curl("pa", "http://10.190.100.1:80/vip");
        assertThat(viaVip.exit()).as(viaVip.out()).isZero();
        assertThat(viaVip.out()).isEqualTo("peer 10.190.1.2\n");

        var out = pods.logged(
                "pod-a's outbound line to the VIP",
                e -> e.direction().equals("outbound") && "httpbin.default.svc.cluster.local".equals(e.dstService()));
        assertThat(out.srcWorkload()).isEqualTo("pod-a");
        assertThat(out.dstHboneAddr()).isEqualTo("10.190.2.2:15008");
        assertThat(out.dstAddr()).isEqualTo("10.190.2.2:8080");
        var in = pods.logged(
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
        var capture = pods.captureLink("link");
        String marker = "plaintext-marker-" + System.nanoTime();
        var r = pods.curl("pa", "-H", "X-Marker: " + marker, "--data", marker, "http://10.190.2.2:8080/secret");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).isEqualTo("peer 10.190.1.2\n");
        capture.awaitPackets("tcp port 15008", "10.190.2.2.15008", 2);
        capture.stop();

        assertThat(capture.read("tcp and not port 15008").lines().filter(l -> l.contains(" IP ")))
                .as("non-15008 packets")
                .isEmpty();
        assertThat(capture.read("tcp port 15008").lines().filter(l -> l.contains("10.190.2.2.15008")))
                .isNotEmpty();
        assertThat(capture.read("-A"))
                .doesNotContain(marker)
                .doesNotContain("GET /")
                .doesNotContain("POST /")
                .doesNotContain("peer 10.190");
    }

    @Test
    @Order(3)
    void plaintextIntoAStrictPodIsRefused() throws Exception {
        var r = pods.curl("pc", "http://10.190.2.2:8080/plain");
        assertThat(r.exit()).as(r.out()).isNotZero();
        assertThat(r.out()).doesNotContain("peer ");
        var refused = pods.logged(
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
            var r = pods.curl("pa", url);
            assertThat(r.exit()).as(url + ": " + r.out()).isEqualTo(7); // could not connect: no admin in a pod
        }
        int before = mesh.log.size();
        for (var url : new String[] {
            "http://127.0.0.1:15001/", "http://10.190.1.2:15001/", "http://10.190.1.2:15006/", "http://127.0.0.1:15006/"
        }) {
            var r = pods.curl("pa", url);
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
        assertThat(pods.curl("pa", "http://10.190.2.2:8080/after").out()).isEqualTo("peer 10.190.1.2\n");
    }

    @Test
    @Order(5)
    void anUnknownUidWaitsUntilTheMeshHasIt() throws Exception {
        assertThat(pods.add(agent2, LATE, "pod-late", "late", "pd")).isEmpty();
        assertThat(node2.ready()).isFalse();
        assertThat(node2.pending()).singleElement().asString().startsWith(LATE + " (uid not in the mesh yet)");
        assertThat(node2.notReadyBecause()).anySatisfy(r -> assertThat(r).contains(LATE));

        mesh.update(MESH.formatted(LATE_WORKLOAD));
        TestMesh.await("pod-late proxied", Duration.ofSeconds(30), () -> node2.running() == 2 && node2.ready());
        lab.awaitListening("pd", 15008);

        assertThat(agent2.del(LATE)).isEmpty();
        TestMesh.await("pod-late's proxy gone", Duration.ofSeconds(10), () -> node2.running() == 1);
        lab.awaitClosed("pd", 15008);
    }

    @Test
    @Order(6)
    void aPodDeletedAndAddedAgainIsServedAgain() throws Exception {
        assertThat(agent2.del(POD_B)).isEmpty();
        lab.awaitClosed("pb", 15008);
        var gone = pods.curl("pa", "--max-time", "3", "http://10.190.2.2:8080/gone");
        assertThat(gone.exit()).isNotZero();

        assertThat(pods.add(agent2, POD_B, "pod-b", "httpbin", "pb")).isEmpty();
        lab.awaitListening("pb", 15008);
        var back = pods.curl("pa", "http://10.190.2.2:8080/back");
        assertThat(back.exit()).as(back.out()).isZero();
        assertThat(back.out()).isEqualTo("peer 10.190.1.2\n");
    }

    @Test
    @Order(7)
    void aResentAddAfterAReconnectKeepsTheProxyAndASnapshotDropsPodsNotInIt() throws Exception {
        agent2.disconnect();
        assertThat(agent2.accept().getVersion()).isEqualTo(Version.V1);
        // same namespace again: a resend, nothing changes
        assertThat(pods.add(agent2, POD_B, "pod-b", "httpbin", "pb")).isEmpty();
        assertThat(agent2.snapshotSent()).isEmpty();
        assertThat(node2.running()).isEqualTo(1);
        assertThat(pods.curl("pa", "http://10.190.2.2:8080/resent").out()).isEqualTo("peer 10.190.1.2\n");

        // a snapshot without pod-b: its proxy goes
        agent2.disconnect();
        assertThat(agent2.accept().getVersion()).isEqualTo(Version.V1);
        assertThat(agent2.snapshotSent()).isEmpty();
        TestMesh.await("pod-b dropped", Duration.ofSeconds(10), () -> node2.running() == 0);
        lab.awaitClosed("pb", 15008);
        // and back, for whatever runs after
        assertThat(pods.add(agent2, POD_B, "pod-b", "httpbin", "pb")).isEmpty();
        lab.awaitListening("pb", 15008);
    }

    @Test
    @Order(8)
    void aZdsInfoThatContradictsTheMeshIsRefused() throws Exception {
        String ack = pods.add(agent1, POD_A, "pod-a", "someone-else", "pd");
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
        lab.awaitListening("pc", 9000);
        var r = pods.curl("pa", "http://10.190.3.2:9000/");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).isEqualTo("outside sees 10.190.1.2\n"); // from the pod's namespace, not the node's
        var line = pods.logged(
                "the passthrough's line",
                e -> e.direction().equals("outbound") && "10.190.3.2:9000".equals(e.dstAddr()));
        assertThat(line.dstHboneAddr()).isNull();
        assertThat(line.srcWorkload()).isEqualTo("pod-a");
    }

    @Test
    @Order(10)
    void everySocketZtunnelOpensInAPodCarriesTheMark() throws Exception {
        assertThat(pods.curl("pa", "http://10.190.2.2:8080/mark").out()).isEqualTo("peer 10.190.1.2\n");
        for (int port : new int[] {15001, 15006, 15008}) {
            var listener = lab.in("pa", "ss", "-Hltne", "sport = :" + port).out();
            assertThat(listener).as("listener :" + port).contains("fwmark:0x539");
        }
        // the pooled HBONE connection pod-a opened to pod-b
        var hbone =
                lab.in("pa", "ss", "-Htne", "dst 10.190.2.2 and dport = :15008").out();
        assertThat(hbone).contains("fwmark:0x539");
    }
}
