package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.hbone.tls.TlsSettings;
import io.ambit.ztunnel.inpod.InPodProxies;
import io.ambit.ztunnel.inpod.TestMesh;
import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.sys.NetnsThread;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
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
 * DNS capture for real, in network namespaces: a pod (namespace {@code dns-*-pod}) whose nameserver is
 * 10.191.1.1:53 in another namespace ({@code dns-*-up}, a test nameserver), the shipped
 * {@code scripts/ambit-inpod-redirect.sh} installed in the pod, and an in-process in-pod ztunnel
 * ({@link InPodProxies}) proxying the pod with its DNS proxy on the pod's 127.0.0.1:15053. A real
 * {@code dig @10.191.1.1} inside the pod gets mesh names from Ambit (a VIP, authoritative) over UDP and
 * TCP; other names come from the nameserver through the proxy, whose marked upstream sockets the capture
 * lets out; with {@code AMBIT_DNS_CAPTURE=false} the nameserver answers everything itself.
 *
 * <p>Needs root, {@code ip}, {@code iptables} and {@code dig} (CI has them).
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
            - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/10.191.100.1"], ports: {80: 8080}}
            """;

    @TempDir
    static Path dir;

    static DnsNetns lab;
    static TestMesh mesh;
    static InPodProxies proxies;
    static TestUpstream upstream;
    static NetnsThread thread;
    static Path script;
    static final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @BeforeAll
    static void setUp() throws Exception {
        var missing = DnsNetns.unavailable();
        assumeTrue(missing.isEmpty(), () -> "skipped: " + missing.orElseThrow());
        Dig.binary();
        script = locateScript();
        lab = new DnsNetns();
        lab.add("pod");
        lab.add("up");
        lab.link("pod", "eth0", "10.191.1.2/24", "up", "veth0", "10.191.1.1/24");
        lab.in("pod", List.of(), "ip", "route", "add", "default", "via", "10.191.1.1");
        // the nameserver runs in its own namespace: its sockets are made there, on the namespace thread
        thread = new NetnsThread("dns-test-netns");
        try (var up = NetnsFd.open(lab.path("up"))) {
            upstream = thread.call(up, () -> new TestUpstream("10.191.1.1", 53), Duration.ofSeconds(10));
        }
        lab.in("pod", List.of(), script.toString());

        mesh = new TestMesh(dir, MESH);
        var dns = new InPodDns(
                InPodDns.DEFAULT_ADDRESS, DnsSettings.of(List.of(new InetSocketAddress("10.191.1.1", 53))));
        proxies = InPodProxies.start(new InPodProxies.Config(
                null,
                mesh.source,
                mesh.certificates,
                TlsSettings.defaults(),
                mesh.transport,
                mesh.group,
                mesh.accessLog,
                registry,
                InPodProxies.Ports.DEFAULT,
                Duration.ofSeconds(1),
                dns));
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
        for (AutoCloseable c : new AutoCloseable[] {proxies, upstream, thread, mesh, lab}) {
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

    /** {@code dig @10.191.1.1 name type} run inside the pod. */
    static Dig digInPod(String name, String type, String... extra) throws Exception {
        var cmd = new ArrayList<>(List.of(
                "ip",
                "netns",
                "exec",
                lab.ns("pod"),
                Dig.binary().toString(),
                "@10.191.1.1",
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
}
