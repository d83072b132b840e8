package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The DNS proxy against the real {@code dig}, on 127.150.0.0/16: mesh answers (short names, FQDN, search
 * forms, wildcard, AAAA, headless, namespace visibility), forwarding to a test nameserver (unknown names,
 * NXDOMAIN with its SOA, SRV), SERVFAIL when the upstream is down, TCP, truncation and dig's TCP retry,
 * the cache, and the metrics.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DnsProxyDigTest {
    Transport transport;
    EventLoopGroup group;
    TestUpstream upstream;
    PrometheusMeterRegistry registry;
    FixedMesh mesh;
    DnsProxy.Shared shared;
    DnsProxy.Shared deadShared;
    DnsProxy sleep;
    DnsProxy insider;
    DnsProxy dead;

    @BeforeAll
    void start() throws Exception {
        Dig.binary();
        transport = Transports.select();
        group = transport.newEventLoopGroup(2, "dns-test");
        upstream = new TestUpstream("127.150.0.53");
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        var metrics = new DnsMetrics(registry);
        mesh = new FixedMesh(FixedMesh.standard());
        shared = DnsProxy.Shared.inProcess(DnsSettings.of(List.of(upstream.address())), transport, group, metrics);
        int closedPort;
        try (var s = new DatagramSocket(new InetSocketAddress("127.150.0.54", 0))) {
            closedPort = s.getLocalPort(); // nothing listens there once closed: the upstream is "down"
        }
        deadShared = DnsProxy.Shared.inProcess(
                DnsSettings.of(List.of(new InetSocketAddress("127.150.0.54", closedPort))), transport, group, metrics);
        var state = mesh.current();
        sleep = DnsProxy.open(
                new InetSocketAddress("127.150.0.1", 0),
                mesh,
                FixedMesh.client(state, "sleep"),
                shared,
                transport,
                group);
        insider = DnsProxy.open(
                new InetSocketAddress("127.150.0.2", 0),
                mesh,
                FixedMesh.client(state, "insider"),
                shared,
                transport,
                group);
        dead = DnsProxy.open(
                new InetSocketAddress("127.150.0.3", 0),
                mesh,
                FixedMesh.client(state, "sleep"),
                deadShared,
                transport,
                group);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {sleep, insider, dead, shared, deadShared, upstream}) {
            if (c != null) {
                c.close();
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS)
                    .syncUninterruptibly();
        }
    }

    Dig ask(DnsProxy proxy, String name, String type, String... extra) throws Exception {
        return Dig.query(
                "127.150.0." + proxy.address().getAddress().getAddress()[3],
                proxy.address().getPort(),
                name,
                type,
                extra);
    }

    @ParameterizedTest(name = "{0} from namespace default is httpbin''s VIP through a CNAME to its hostname")
    @CsvSource({"httpbin", "httpbin.default", "httpbin.default.svc", "httpbin.default.default.svc.cluster.local"})
    void shortFormsAnswerThroughACname(String name) throws Exception {
        var d = ask(sleep, name, "A");
        assertThat(d.status()).isEqualTo("NOERROR");
        assertThat(d.flags()).contains("aa");
        assertThat(d.data("CNAME")).containsExactly("httpbin.default.svc.cluster.local.");
        assertThat(d.answers()).contains("httpbin.default.svc.cluster.local. 30 IN A 10.96.0.10");
    }

    @Test
    void theFullHostnameAnswersDirectly() throws Exception {
        var d = ask(sleep, "httpbin.default.svc.cluster.local", "A");
        assertThat(d.answers()).containsExactly("httpbin.default.svc.cluster.local. 30 IN A 10.96.0.10");
    }

    @Test
    void anEdnsQueryGetsAnOptRecordBackAndAClassicOneDoesNot() throws Exception {
        var edns = ask(sleep, "httpbin.default.svc.cluster.local", "A");
        assertThat(edns.output()).contains("OPT PSEUDOSECTION").contains("udp: 1232");
        var forwarded = ask(sleep, "unknown.test", "A");
        assertThat(forwarded.output()).contains("udp: 1232"); // ours, not the upstream's
        var classic = ask(sleep, "httpbin.default.svc.cluster.local", "A", "+noedns");
        assertThat(classic.output()).doesNotContain("OPT PSEUDOSECTION");
        assertThat(classic.answers()).containsExactly("httpbin.default.svc.cluster.local. 30 IN A 10.96.0.10");
    }

    @Test
    void aaaaGivesTheV6VipOnly() throws Exception {
        var d = ask(sleep, "httpbin.default.svc.cluster.local", "AAAA");
        assertThat(d.answers()).containsExactly("httpbin.default.svc.cluster.local. 30 IN AAAA fd00::10");
    }

    @Test
    void aWildcardHostAnswersUnderTheNameAsked() throws Exception {
        var d = ask(sleep, "api.v2.example.com", "A");
        assertThat(d.flags()).contains("aa");
        assertThat(d.answers()).containsExactly("api.v2.example.com. 30 IN A 240.240.0.1");
    }

    @Test
    void aHeadlessServiceAnswersWithItsHealthyEndpoints() throws Exception {
        var d = ask(sleep, "db.default.svc.cluster.local", "A");
        assertThat(d.data("A")).containsExactlyInAnyOrder("10.0.0.1", "10.0.0.2");
    }

    @Test
    void aNamespaceVisibleServiceIsHiddenFromOtherNamespacesAndSeenInItsOwn() throws Exception {
        var outside = ask(sleep, "secret.private.svc.cluster.local", "A");
        assertThat(outside.flags()).doesNotContain("aa");
        assertThat(outside.status()).isEqualTo("REFUSED"); // the test upstream's word: not from the mesh
        var inside = ask(insider, "secret", "A");
        assertThat(inside.answers()).contains("secret.private.svc.cluster.local. 30 IN A 10.96.0.20");
    }

    @Test
    void aVipLessServiceEntryHostIsForwarded() throws Exception {
        var d = ask(sleep, "ext.example.org", "A");
        assertThat(d.flags()).doesNotContain("aa");
        assertThat(d.status()).isEqualTo("REFUSED");
    }

    @Test
    void anUnknownNameIsAnsweredByTheUpstream() throws Exception {
        var d = ask(sleep, "unknown.test", "A");
        assertThat(d.status()).isEqualTo("NOERROR");
        assertThat(d.flags()).doesNotContain("aa");
        assertThat(d.answers()).containsExactly("unknown.test. 60 IN A 192.0.2.1");
    }

    @Test
    void nxdomainStaysNxdomainWithTheUpstreamsSoaDecompressed() throws Exception {
        var d = ask(sleep, "missing.test", "A");
        assertThat(d.status()).isEqualTo("NXDOMAIN");
        assertThat(d.authority()).hasSize(1);
        assertThat(d.authority().getFirst())
                .matches("test\\. \\d+ IN SOA ns1\\.test\\. hostmaster\\.test\\. 1 2 3 4 5");
    }

    @Test
    void srvIsForwardedWithItsTargetDecompressed() throws Exception {
        var d = ask(sleep, "_http._tcp.svc.test", "SRV");
        assertThat(d.data("SRV")).containsExactly("0 5 80 target.svc.test.");
    }

    @Test
    void anUpstreamThatIsDownGivesServfail() throws Exception {
        var d = ask(dead, "unknown.test", "A");
        assertThat(d.status()).isEqualTo("SERVFAIL");
        assertThat(registry.scrape())
                .containsPattern("istio_dns_upstream_failures_total\\{[^}]*request_query_type=\"a\"");
    }

    @Test
    void meshNamesStillAnswerWhenTheUpstreamIsDown() throws Exception {
        var d = ask(dead, "httpbin.default.svc.cluster.local", "A");
        assertThat(d.answers()).containsExactly("httpbin.default.svc.cluster.local. 30 IN A 10.96.0.10");
    }

    @Test
    void tcpQueriesAreAnswered() throws Exception {
        var mesh = ask(sleep, "httpbin.default.svc.cluster.local", "A", "+tcp");
        assertThat(mesh.answers()).containsExactly("httpbin.default.svc.cluster.local. 30 IN A 10.96.0.10");
        var forwarded = ask(sleep, "unknown.test", "A", "+tcp");
        assertThat(forwarded.answers()).containsExactly("unknown.test. 60 IN A 192.0.2.1");
        assertThat(registry.scrape()).containsPattern("istio_dns_requests_total\\{[^}]*request_protocol=\"tcp\"");
    }

    @Test
    void aTooLargeUdpAnswerIsTruncatedAndDigsTcpRetryGetsItAll() throws Exception {
        var truncated = ask(sleep, "big.test", "TXT", "+noedns", "+ignore");
        assertThat(truncated.flags()).contains("tc");
        assertThat(truncated.answers()).isEmpty();
        var retried = ask(sleep, "big.test", "TXT", "+noedns");
        assertThat(retried.output()).contains("Truncated, retrying in TCP mode");
        assertThat(retried.answers()).hasSize(1);
        assertThat(retried.answers().getFirst()).contains("a".repeat(250)).contains("f".repeat(250));
        var edns = ask(sleep, "big.test", "TXT", "+bufsize=4096", "+ignore");
        assertThat(edns.flags()).doesNotContain("tc"); // the client said it takes 4096 bytes
        assertThat(edns.answers()).hasSize(1);
    }

    @Test
    void aRepeatedUpstreamQuestionIsAnsweredFromTheCache() throws Exception {
        var first = ask(sleep, "cached-once.test", "A");
        int before = upstream.queries.get();
        var second = ask(sleep, "cached-once.test", "A");
        assertThat(first.status()).isEqualTo("NXDOMAIN");
        assertThat(second.status()).isEqualTo("NXDOMAIN");
        assertThat(second.authority()).hasSize(1);
        assertThat(upstream.queries.get()).isEqualTo(before);
    }

    @Test
    void theMetricsCountRequestsByTypeProtocolAndClient() throws Exception {
        ask(sleep, "httpbin.default.svc.cluster.local", "AAAA");
        ask(sleep, "unknown.test", "A");
        String text = registry.scrape();
        assertThat(text)
                .containsPattern("istio_dns_requests_total\\{request_protocol=\"udp\",request_query_type=\"aaaa\","
                        + "source_canonical_revision=\"v1\",source_canonical_service=\"sleep\"} [1-9]")
                .containsPattern(
                        "istio_dns_upstream_requests_total\\{request_protocol=\"udp\",request_query_type=\"a\","
                                + "source_canonical_revision=\"v1\",source_canonical_service=\"sleep\"} [1-9]")
                .contains("istio_dns_upstream_request_duration_seconds_bucket{")
                .contains("le=\"5.0\"");
    }
}
