package io.ambit.ztunnel.inpod;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
 * In-pod capture of a dual-stack pod's IPv6 traffic, for real, in the {@link TwoNodeLab}: the pods have IPv6 ULAs
 * (fd00:a6b1::/48) next to their IPv4 addresses, so the shipped {@code scripts/ambit-inpod-redirect.sh} installs its
 * ip6tables rules too. A real {@code curl -g 'http://[fd00:a6b1:2::2]:8080'} in pod-a reaches a real Node.js server
 * in pod-b through HBONE over IPv6, and the app sees pod-a's own IPv6 address (TPROXY inbound and a transparent app
 * connection); {@code tcpdump} on the link between the nodes sees only TLS to 15008; plaintext over IPv6 into the
 * STRICT pod is refused; an IPv6 destination outside the mesh is reached from the pod itself; and with {@code AMBIT_IPV6=false} the same call crosses the link in plaintext, which shows
 * that the IPv6 rules are what captures it (and that the capture assertion can fail).
 *
 * <p>Needs root (skipped otherwise), {@code ip}, {@code ip6tables}, {@code curl}, {@code node}, {@code tcpdump}
 * and {@code ss} (failing without them: CI has them).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InPodDualStackCaptureTest {
    static final String A6 = "fd00:a6b1:1::2";
    static final String B6 = "fd00:a6b1:2::2";
    static final String C6 = "fd00:a6b1:3::2";
    static final String VIP6 = "fd00:a6b1:100::1";
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: pod-a, namespace: default, serviceAccount: sleep, node: node1,
               workloadIps: ["10.190.1.2", "fd00:a6b1:1::2"]}
            - name: pod-b
              namespace: default
              serviceAccount: httpbin
              node: node2
              workloadIps: ["10.190.2.2", "fd00:a6b1:2::2"]
              labels: {app: httpbin}
              services: {"default/httpbin.default.svc.cluster.local": {80: 8080}}
            services:
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local,
               vips: ["/10.190.100.1", "/fd00:a6b1:100::1"], ports: {80: 8080}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            """;

    @TempDir
    static Path dir;

    static TwoNodeLab pods;
    static NetnsLab lab;
    static TestMesh mesh;
    static Path script;

    @BeforeAll
    static void setUp() throws Exception {
        NetnsLab.require("ip", "iptables", "ip6tables", "curl", "node", "tcpdump", "ss");
        pods = TwoNodeLab.start(dir, MESH, "::"); // the app on both families
        lab = pods.lab;
        mesh = pods.mesh;
        script = pods.script;
    }

    @AfterAll
    static void tearDown() {
        if (pods != null) {
            pods.close();
        }
    }

    @Test
    @Order(1)
    void curlOverIpv6InPodAReachesTheAppInPodBThroughHboneAndTheAppSeesPodAsIpv6Address() throws Exception {
        int before = mesh.log.size();
        var direct = pods.curl("pa", "-6", "http://[" + B6 + "]:8080/direct");
        assertThat(direct.exit()).as(direct.out()).isZero();
        assertThat(direct.out()).isEqualTo("peer " + A6 + "\n");

        // the call went through both ztunnels, over HBONE between the pods' IPv6 addresses
        var out = pods.logged(
                "pod-a's outbound line to pod-b's IPv6 address",
                e -> mesh.log.indexOf(e) >= before
                        && e.direction().equals("outbound")
                        && ("[" + B6 + "]:8080").equals(e.dstAddr()));
        assertThat(out.srcWorkload()).isEqualTo("pod-a");
        assertThat(out.srcAddr()).startsWith("[" + A6 + "]:");
        assertThat(out.dstHboneAddr()).isEqualTo("[" + B6 + "]:15008");
        assertThat(out.error()).isNull();
        var in = pods.logged(
                "pod-b's inbound line for pod-a's IPv6 tunnel",
                e -> mesh.log.indexOf(e) >= before
                        && e.direction().equals("inbound")
                        && e.srcAddr() != null
                        && e.srcAddr().startsWith("[" + A6 + "]:"));
        assertThat(in.srcIdentity()).isEqualTo("spiffe://cluster.local/ns/default/sa/sleep");
        assertThat(in.dstWorkload()).isEqualTo("pod-b");
        assertThat(in.error()).isNull();
    }

    @Test
    @Order(2)
    void theServicesIpv6VipLeadsToTheEndpointsIpv6AddressAndIpv4StillWorks() throws Exception {
        var viaVip = pods.curl("pa", "http://[" + VIP6 + "]:80/vip6");
        assertThat(viaVip.exit()).as(viaVip.out()).isZero();
        assertThat(viaVip.out()).isEqualTo("peer " + A6 + "\n");
        var out = pods.logged(
                "pod-a's outbound line to the IPv6 VIP",
                e -> e.direction().equals("outbound")
                        && "httpbin.default.svc.cluster.local".equals(e.dstService())
                        && ("[" + B6 + "]:15008").equals(e.dstHboneAddr()));
        assertThat(out.dstAddr()).isEqualTo("[" + B6 + "]:8080"); // the dialed family's address of the endpoint

        // the same dual-stack listeners take IPv4 (the app sees it IPv4-mapped: it listens on [::])
        var v4 = pods.curl("pa", "http://10.190.2.2:8080/v4");
        assertThat(v4.exit()).as(v4.out()).isZero();
        assertThat(v4.out()).isEqualTo("peer ::ffff:10.190.1.2\n");
    }

    @Test
    @Order(3)
    void theLinkBetweenTheNodesCarriesOnlyTlsToPort15008OverIpv6() throws Exception {
        var capture = pods.captureLink("ipv6-link");
        String marker = "plaintext-marker-" + System.nanoTime();
        var r = pods.curl("pa", "-6", "-H", "X-Marker: " + marker, "--data", marker, "http://[" + B6 + "]:8080/secret");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).isEqualTo("peer " + A6 + "\n");
        capture.awaitPackets("tcp port 15008", B6 + ".15008", 2);
        capture.stop();

        assertThat(capture.read("tcp and not port 15008").lines().filter(l -> l.contains(" IP6 ")))
                .as("IPv6 packets not to or from 15008")
                .isEmpty();
        assertThat(capture.read("tcp port 15008").lines().filter(l -> l.contains(A6 + ".")))
                .as("pod-a's tunnel packets")
                .isNotEmpty();
        assertThat(capture.read("-A", "tcp"))
                .doesNotContain(marker)
                .doesNotContain("POST /")
                .doesNotContain("peer fd00");
    }

    @Test
    @Order(4)
    void plaintextOverIpv6IntoAStrictPodIsRefused() throws Exception {
        var r = pods.curl("pc", "-6", "http://[" + B6 + "]:8080/plain");
        assertThat(r.exit()).as(r.out()).isNotZero();
        assertThat(r.out()).doesNotContain("peer ");
        var refused = pods.logged(
                "pod-b's refusal of the IPv6 plaintext connection",
                e -> e.direction().equals("inbound")
                        && e.srcAddr() != null
                        && e.srcAddr().startsWith("[" + C6 + "]:"));
        assertThat(refused.dstWorkload()).isEqualTo("pod-b");
        assertThat(refused.srcIdentity()).isNull();
        assertThat(refused.error()).startsWith("denied by");
        assertThat(refused.responseFlags()).isEqualTo("DENY");
        assertThat(refused.dstAddr()).isEqualTo("[" + B6 + "]:8080"); // the port dialed, from TPROXY
    }

    @Test
    @Order(5)
    void aPodCannotLoopIntoZtunnelsListenersOverIpv6() throws Exception {
        int before = mesh.log.size();
        for (var url :
                new String[] {"http://[::1]:15001/", "http://[" + A6 + "]:15001/", "http://[" + A6 + "]:15006/"}) {
            var r = pods.curl("pa", url);
            assertThat(r.exit()).as(url + ": " + r.out()).isNotZero();
            assertThat(r.out()).doesNotContain("peer ");
        }
        TestMesh.await("three refusals logged", Duration.ofSeconds(15), () -> mesh.log.size() >= before + 3);
        assertThat(mesh.log.subList(before, mesh.log.size()))
                .allSatisfy(e -> assertThat(e.error()).isNotNull())
                .anySatisfy(e -> assertThat(e.error()).contains("self-call to ztunnel port 15001"))
                .anySatisfy(e -> assertThat(e.error()).contains("self-call to ztunnel port 15006"));
        var admin = pods.curl("pa", "http://[::1]:15000/config_dump");
        assertThat(admin.exit()).as(admin.out()).isEqualTo(7); // could not connect: no admin in a pod
    }

    @Test
    @Order(6)
    void theListenersTakeBothFamiliesAndTheIpv6TunnelCarriesTheMark() throws Exception {
        for (int port : new int[] {15001, 15006, 15008}) {
            var listener = lab.in("pa", "ss", "-Hltne", "sport = :" + port).out();
            // one socket for both families: on [::] ("*" to ss) without IPV6_V6ONLY
            assertThat(listener)
                    .as("listener :" + port)
                    .contains("*:" + port)
                    .contains("v6only:0")
                    .contains("fwmark:0x539");
        }
        var hbone = lab.in("pa", "ss", "-Htne", "dst [" + B6 + "] and dport = :15008")
                .out();
        assertThat(hbone).as("pod-a's pooled IPv6 tunnel").contains("fwmark:0x539");
    }

    @Test
    @Order(7)
    void anIpv6DestinationOutsideTheMeshIsPassedThroughFromThePodItself() throws Exception {
        lab.start(
                "pc",
                dir.resolve("outside.log"),
                "node",
                "-e",
                "require('http').createServer((q, s) => s.end('outside sees ' + q.socket.remoteAddress + '\\n'))"
                        + ".listen(9000, '::')");
        lab.awaitListening("pc", 9000);
        var r = pods.curl("pa", "-6", "http://[" + C6 + "]:9000/");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).isEqualTo("outside sees " + A6 + "\n"); // from the pod's namespace, not the node's
        var line = pods.logged(
                "the IPv6 passthrough's line",
                e -> e.direction().equals("outbound") && ("[" + C6 + "]:9000").equals(e.dstAddr()));
        assertThat(line.dstHboneAddr()).isNull();
        assertThat(line.srcWorkload()).isEqualTo("pod-a");
    }

    @Test
    @Order(8)
    void withAmbitIpv6FalseTheIpv6CallBypassesTheMeshInPlaintext() throws Exception {
        for (var pod : new String[] {"pa", "pb"}) {
            lab.in(pod, script.toString(), "--remove");
            lab.in(pod, List.of("AMBIT_IPV6=false"), script.toString());
        }
        try {
            // unmeshed plaintext over IPv6 now reaches the STRICT pod's app: nothing captures it
            var plain = pods.curl("pc", "-6", "http://[" + B6 + "]:8080/plain");
            assertThat(plain.exit()).as(plain.out()).isZero();
            assertThat(plain.out()).isEqualTo("peer " + C6 + "\n");

            // and pod-a's call crosses the link as it was written
            var capture = pods.captureLink("bypass");
            String marker = "bypass-marker-" + System.nanoTime();
            var r = pods.curl("pa", "-6", "-H", "X-Marker: " + marker, "http://[" + B6 + "]:8080/bypass");
            assertThat(r.exit()).as(r.out()).isZero();
            capture.awaitPackets("tcp port 8080", B6 + ".8080", 2);
            capture.stop();
            assertThat(capture.read("-A", "tcp")).contains(marker);
            // IPv4 is still captured
            assertThat(pods.curl("pc", "http://10.190.2.2:8080/plain4").exit()).isNotZero();
        } finally {
            for (var pod : new String[] {"pa", "pb"}) {
                lab.in(pod, script.toString(), "--remove");
                lab.in(pod, script.toString());
            }
        }
        var back = pods.curl("pc", "-6", "http://[" + B6 + "]:8080/plain");
        assertThat(back.exit()).as("captured again: " + back.out()).isNotZero();
    }
}
