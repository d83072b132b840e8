package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.inpod.InPodProxies;
import io.ambit.ztunnel.inpod.NetnsLab;
import io.ambit.ztunnel.inpod.TestMesh;
import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.sys.NetnsThread;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * DNS capture for real, in network namespaces: a pod (namespace {@code v6-*-pod}) whose nameserver is
 * 10.191.1.1:53 in another namespace ({@code v6-*-up}, a test nameserver), the shipped
 * {@code scripts/ambit-inpod-redirect.sh} installed in the pod, and an in-process in-pod ztunnel
 * ({@link InPodProxies}) proxying the pod with its DNS proxy on the pod's 127.0.0.1:15053. A real
 * {@code dig @10.191.1.1} inside the pod gets mesh names from Ambit (a VIP, authoritative) over UDP and
 * TCP; other names come from the nameserver through the proxy, whose marked upstream sockets the capture
 * lets out; with {@code AMBIT_DNS_CAPTURE=false} the nameserver answers everything itself.
 *
 * <p>The pod is dual stack (fd00:a6b1:91::2, its nameserver also on fd00:a6b1:91::1): the script's ip6tables
 * rules send its IPv6 DNS to the proxy's second listener on the pod's {@code [::1]:15053}, so
 * {@code dig @fd00:a6b1:91::1 ... AAAA} gets the service's IPv6 VIP from Ambit over UDP and TCP; with
 * {@code AMBIT_IPV6=false} the IPv6 nameserver answers itself.
 *
 * <p>Needs root (skipped otherwise), {@code ip}, {@code iptables}, {@code ip6tables} and {@code dig} (failing
 * without them: CI has them).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InPodDnsCaptureTest {
    static final String POD = "Kubernetes//Pod/default/pod-dns";
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: pod-dns, namespace: default, serviceAccount: sleep, node: node1, workloadIps: ["10.191.1.2"],
               labels: {app: sleeper, version: v7}}
            services:
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/10.191.100.1", "/fd00:a6b1:191::1"], ports: {80: 8080}}
            """;

    @TempDir
    static Path dir;

    static NetnsLab lab;
    static TestMesh mesh;
    static InPodProxies proxies;
    static TestUpstream upstream;
    static TestUpstream upstream6;
    static NetnsThread thread;
    static Path script;
    static final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @BeforeAll
    static void setUp() throws Exception {
        NetnsLab.require("ip", "iptables", "ip6tables", "dig", "ss");
        script = NetnsLab.script();
        lab = new NetnsLab();
        lab.add("pod");
        lab.add("up");
        lab.link("pod", "eth0", "10.191.1.2/24", "up", "veth0", "10.191.1.1/24");
        lab.address("pod", "eth0", "fd00:a6b1:91::2/64");
        lab.address("up", "veth0", "fd00:a6b1:91::1/64");
        lab.in("pod", List.of(), "ip", "route", "add", "default", "via", "10.191.1.1");
        // the nameserver runs in its own namespace: its sockets are made there, on the namespace thread
        thread = new NetnsThread("dns-test-netns");
        try (var up = NetnsFd.open(lab.path("up"))) {
            upstream = thread.call(up, () -> new TestUpstream("10.191.1.1", 53), Duration.ofSeconds(10));
            upstream6 = thread.call(up, () -> new TestUpstream("fd00:a6b1:91::1", 53), Duration.ofSeconds(10));
        }
        lab.in("pod", List.of(), script.toString());

        mesh = new TestMesh(dir, MESH);
        var dns = new InPodDns(
                InPodDns.DEFAULT_ADDRESS, DnsSettings.of(List.of(new InetSocketAddress("10.191.1.1", 53))));
        proxies = InPodProxies.start(mesh.inPodConfig(null, registry, dns));
        try (var pod = NetnsFd.open(lab.path("pod"))) {
            // add takes its own descriptor: hand over a duplicate by opening the path again
            var ack = proxies.add(
                            POD, new InPodProxies.PodInfo("pod-dns", "default", "sleep"), NetnsFd.open(lab.path("pod")))
                    .get(60, TimeUnit.SECONDS);
            assertThat(ack).as("ZDS add ack").isEmpty();
            assertThat(pod.inode()).isPositive();
        }
        assertThat(proxies.snapshotSent().get(10, TimeUnit.SECONDS)).isEmpty();
        var listener = proxies.proxy(POD).orElseThrow().dnsAddress();
        assertThat(listener).as("the pod's DNS proxy").isEqualTo(new InetSocketAddress("127.0.0.1", 15053));
    }

    @AfterAll
    static void tearDown() {
        for (AutoCloseable c : new AutoCloseable[] {proxies, upstream, upstream6, thread, mesh, lab}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("teardown: " + e);
                }
            }
        }
    }

    /** {@code dig @10.191.1.1 name type} run inside the pod. */
    static Dig digInPod(String name, String type, String... extra) throws Exception {
        return digInPodAt("10.191.1.1", name, type, extra);
    }

    /** {@code dig @server name type} run inside the pod. */
    static Dig digInPodAt(String server, String name, String type, String... extra) throws Exception {
        var cmd = new ArrayList<>(List.of(
                "ip",
                "netns",
                "exec",
                lab.ns("pod"),
                Dig.binary().toString(),
                "@" + server,
                name,
                type,
                "+tries=1",
                "+timeout=5"));
        cmd.addAll(List.of(extra));
        return Dig.run(cmd);
    }

    @Test
    @Order(1)
    void aMeshNameAskedOfTheNameserverIsAnsweredByAmbit() throws Exception {
        int before = upstream.queries.get();
        var full = digInPod("httpbin.default.svc.cluster.local", "A");
        assertThat(full.flags()).contains("aa");
        assertThat(full.answers()).containsExactly("httpbin.default.svc.cluster.local. 30 IN A 10.191.100.1");
        var shortName = digInPod("httpbin", "A");
        assertThat(shortName.answers()).contains("httpbin.default.svc.cluster.local. 30 IN A 10.191.100.1");
        assertThat(upstream.queries.get()).as("the nameserver was not asked").isEqualTo(before);
    }

    @Test
    @Order(2)
    void overTcpToo() throws Exception {
        var d = digInPod("httpbin.default.svc.cluster.local", "A", "+tcp");
        assertThat(d.flags()).contains("aa");
        assertThat(d.answers()).containsExactly("httpbin.default.svc.cluster.local. 30 IN A 10.191.100.1");
    }

    @Test
    @Order(3)
    void otherNamesComeFromTheNameserverThroughTheProxysMarkedSockets() throws Exception {
        int before = upstream.queries.get();
        var d = digInPod("unknown.test", "A");
        assertThat(d.status()).isEqualTo("NOERROR");
        assertThat(d.flags()).doesNotContain("aa");
        assertThat(d.answers()).containsExactly("unknown.test. 60 IN A 192.0.2.1");
        // one query reached the nameserver: the proxy's own (a loop back into 15053 would never get there)
        assertThat(upstream.queries.get()).isEqualTo(before + 1);
        var srv = digInPod("_http._tcp.svc.test", "SRV");
        assertThat(srv.data("SRV")).containsExactly("0 5 80 target.svc.test.");
    }

    @Test
    @Order(4)
    void theMetricsCountThePodsQueries() {
        String text = registry.scrape();
        assertThat(text)
                .containsPattern("istio_dns_requests_total\\{request_protocol=\"udp\",request_query_type=\"a\","
                        + "source_canonical_revision=\"v7\",source_canonical_service=\"sleeper\"} [1-9]")
                .containsPattern("istio_dns_requests_total\\{request_protocol=\"tcp\",request_query_type=\"a\",")
                .containsPattern(
                        "istio_dns_upstream_requests_total\\{request_protocol=\"udp\",request_query_type=\"srv\",")
                .doesNotContain("istio_dns_upstream_failures_total{request_protocol=\"udp\",request_query_type=\"a\","
                        + "source_canonical_revision=\"v7\",source_canonical_service=\"sleeper\"} 1");
    }

    @Test
    @Order(5)
    void withDnsCaptureOffTheNameserverAnswersItself() throws Exception {
        lab.in("pod", List.of(), script.toString(), "--remove");
        lab.in("pod", List.of("AMBIT_DNS_CAPTURE=false"), script.toString());
        try {
            String rules =
                    lab.in("pod", List.of(), "iptables-save", "-t", "nat").out();
            assertThat(rules).contains("REDIRECT --to-ports 15001").doesNotContain("--dport 53");
            int before = upstream.queries.get();
            var d = digInPod("httpbin.default.svc.cluster.local", "A");
            assertThat(d.flags()).doesNotContain("aa");
            assertThat(d.status()).isEqualTo("REFUSED"); // the test nameserver knows no mesh name
            assertThat(upstream.queries.get()).isEqualTo(before + 1);
        } finally {
            lab.in("pod", List.of(), script.toString(), "--remove");
            lab.in("pod", List.of(), script.toString());
        }
    }

    @Test
    @Order(6)
    void theProxyListensOnBothLoopbacksOfTheDualStackPod() throws Exception {
        for (var protocol : new String[] {"-Hlun", "-Hltn"}) {
            var listeners = lab.in("pod", "ss", protocol, "sport = :15053").out();
            // the IPv4 one is an IPv6 socket too (Netty's), bound to ::ffff:127.0.0.1
            assertThat(listeners)
                    .as(protocol)
                    .containsPattern("127\\.0\\.0\\.1]?:15053")
                    .contains("[::1]:15053");
        }
    }

    @Test
    @Order(7)
    void anAaaaQuestionToTheIpv6NameserverIsAnsweredByAmbitOverUdpAndTcp() throws Exception {
        int before4 = upstream.queries.get();
        int before6 = upstream6.queries.get();
        for (var transport : new String[] {"+notcp", "+tcp"}) {
            var d = digInPodAt("fd00:a6b1:91::1", "httpbin.default.svc.cluster.local", "AAAA", transport);
            assertThat(d.flags()).as(transport + ": " + d.output()).contains("aa");
            assertThat(d.answers())
                    .as(transport)
                    .containsExactly("httpbin.default.svc.cluster.local. 30 IN AAAA fd00:a6b1:191::1");
        }
        var a = digInPodAt("fd00:a6b1:91::1", "httpbin", "A");
        assertThat(a.answers()).contains("httpbin.default.svc.cluster.local. 30 IN A 10.191.100.1");
        assertThat(upstream6.queries.get())
                .as("the IPv6 nameserver was not asked")
                .isEqualTo(before6);
        assertThat(upstream.queries.get()).isEqualTo(before4);

        // a name outside the mesh asked over IPv6: forwarded by the proxy (to its upstream, resolv.conf's)
        var other = digInPodAt("fd00:a6b1:91::1", "not-in-the-mesh-v6.test", "A");
        assertThat(other.status()).isEqualTo("NXDOMAIN"); // the test nameserver's answer, through the proxy
        assertThat(other.flags()).doesNotContain("aa");
        assertThat(upstream.queries.get()).isEqualTo(before4 + 1);
        assertThat(upstream6.queries.get()).isEqualTo(before6);
    }

    @Test
    @Order(8)
    void withAmbitIpv6FalseTheIpv6NameserverAnswersItself() throws Exception {
        lab.in("pod", List.of(), script.toString(), "--remove");
        lab.in("pod", List.of("AMBIT_IPV6=false"), script.toString());
        try {
            int before6 = upstream6.queries.get();
            var d = digInPodAt("fd00:a6b1:91::1", "httpbin.default.svc.cluster.local", "AAAA");
            assertThat(d.flags()).doesNotContain("aa");
            assertThat(d.status()).isEqualTo("REFUSED"); // the test nameserver knows no mesh name
            assertThat(upstream6.queries.get()).isEqualTo(before6 + 1);
            // IPv4 DNS is still Ambit's
            assertThat(digInPod("httpbin.default.svc.cluster.local", "A").flags())
                    .contains("aa");
        } finally {
            lab.in("pod", List.of(), script.toString(), "--remove");
            lab.in("pod", List.of(), script.toString());
        }
    }
}
