package io.ambit.waypoint.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.hbone.tunnel.TargetDialer;
import io.ambit.hbone.tunnel.TcpTunnelListener;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.Pki;
import io.ambit.waypoint.testing.RawHttp;
import io.ambit.waypoint.testing.StaticMesh;
import io.ambit.waypoint.testing.TestNet;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code examples/waypoint-mesh.yaml} as a user runs it: the article's payment service behind its waypoint,
 * the waypoint started by {@link LocalWaypoints} (what {@code ambit waypoint} and {@code ambit run} call),
 * real apps behind real HBONE servers, and the article's callers. The example's addresses are moved into
 * this test's range (127.20.X.Y becomes 127.92.9X.Y, the VIP 127.92.99.1; logical, see {@link TestNet}).
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class ArticleExampleTest {
    private static final List<AutoCloseable> opened = new ArrayList<>();
    private static final List<String> accessLog = new CopyOnWriteArrayList<>();
    private static Pki pki;
    private static EventLoopGroup group;
    private static LocalWaypoints waypoints;
    private static InetSocketAddress order;
    private static InetSocketAddress checkout;
    private static InetSocketAddress refund;

    @BeforeAll
    static void start() throws Exception {
        String yaml = Files.readString(Path.of("../examples/waypoint-mesh.yaml"))
                .replaceAll("127\\.20\\.(\\d)\\.", TestNet.net(92) + ".9$1.")
                .replace("127.21.0.1", TestNet.ip("127.92.99.1"));
        var mesh = new StaticMesh(yaml);
        pki = new Pki();
        Transport transport = Transports.select();
        group = transport.newEventLoopGroup(2, "article-test");
        var app = SpiffeId.parse("spiffe://cluster.local/ns/fintech-core/sa/payment-processor");
        pki.certificates.certificate(app).get(30, TimeUnit.SECONDS);
        for (String host : List.of("1", "2")) {
            InetAddress ip = InetAddress.getByName(TestNet.ip("127.92.92." + host));
            opened.add(
                    EchoBackend.start("payment-processor-" + host, transport, group, new InetSocketAddress(ip, 8080)));
            var tls = ServerTls.forIdentity(pki.certificates, app, TlsSettings.defaults(), null);
            opened.add(tls);
            opened.add(HboneServer.start(
                            HboneServerConfig.defaults(new InetSocketAddress(ip, 15008)),
                            tls,
                            new TargetDialer(transport),
                            transport,
                            group)
                    .get(30, TimeUnit.SECONDS));
        }
        waypoints = LocalWaypoints.start(
                mesh,
                pki.certificates,
                transport,
                group,
                AccessLog.to(accessLog::add),
                new LocalWaypoints.Options(d -> true, new LocalWaypoints.Ports(15008, 0, 0), c -> c));
        var waypointAt = waypoints.waypoints().getFirst().hboneAddress();
        var clientTls = new ClientTls(TlsSettings.defaults());
        opened.add(clientTls);
        var pool = new HbonePool(
                PoolConfig.defaults(), clientTls, SourceCertificates.from(pki.certificates), transport, group);
        opened.add(pool);
        var waypointId = SpiffeId.parse("spiffe://cluster.local/ns/fintech-core/sa/payment-waypoint");
        var vip = new InetSocketAddress(TestNet.address("127.92.99.1"), 80);
        InetSocketAddress[] ports = new InetSocketAddress[3];
        String[] callers = {"order-service", "checkout-service", "refund-service"};
        for (int i = 0; i < 3; i++) {
            InetAddress ip = InetAddress.getByName(TestNet.ip("127.92.91." + (i + 1)));
            var key = new PoolKey(
                    SpiffeId.parse("spiffe://cluster.local/ns/fintech-core/sa/" + callers[i]),
                    Set.of(waypointId),
                    ip,
                    waypointAt);
            var listener =
                    TcpTunnelListener.start(transport, group, () -> pool, key, vip, true, new InetSocketAddress(ip, 0));
            opened.add(listener);
            ports[i] = listener.address();
        }
        order = ports[0];
        checkout = ports[1];
        refund = ports[2];
    }

    @AfterAll
    static void stop() {
        if (waypoints != null) {
            waypoints.close();
        }
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                // keep closing
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (pki != null) {
            pki.close();
        }
    }

    static Stream<Arguments> cases() {
        String process = "POST /api/v2/payments/process HTTP/1.1\r\nHost: payment-processor\r\nContent-Length: 0\r\n";
        String refundReq = "POST /api/v2/payments/refund HTTP/1.1\r\nHost: payment-processor\r\nContent-Length: 0\r\n";
        return Stream.of(
                Arguments.of(
                        "order-service pays 5000 at fraud score 0.1",
                        "order",
                        process + "amount: 5000\r\nx-fraud-score: 0.1\r\n",
                        200,
                        "payment-l7-access"),
                Arguments.of(
                        "order-service pays 250000: over the limit",
                        "order",
                        process + "amount: 250000\r\nx-fraud-score: 0.1\r\n",
                        403,
                        null),
                Arguments.of(
                        "order-service at fraud score 0.9: too risky",
                        "order",
                        process + "amount: 10\r\nx-fraud-score: 0.9\r\n",
                        403,
                        null),
                Arguments.of(
                        "a fraud score that is not a number fails closed",
                        "order",
                        process + "amount: 10\r\nx-fraud-score: high\r\n",
                        403,
                        null),
                Arguments.of(
                        "two amount headers: each is compared",
                        "order",
                        process + "amount: 10\r\namount: 200000\r\nx-fraud-score: 0\r\n",
                        403,
                        null),
                Arguments.of(
                        "a GET to the process endpoint is no rule's",
                        "order",
                        "GET /api/v2/payments/process HTTP/1.1\r\nHost: p\r\n",
                        403,
                        null),
                Arguments.of(
                        "checkout-service has no rule",
                        "checkout",
                        process + "amount: 10\r\nx-fraud-score: 0\r\n",
                        403,
                        null),
                Arguments.of(
                        "a scanner user agent is denied at the Gateway",
                        "order",
                        process + "amount: 10\r\nx-fraud-score: 0\r\nUser-Agent: sqlmap/1.7\r\n",
                        403,
                        "security-baseline-deny"),
                Arguments.of(
                        "a request rate header over 100 is denied",
                        "order",
                        process + "amount: 10\r\nx-fraud-score: 0\r\nx-request-rate: 500\r\n",
                        403,
                        "security-baseline-deny"),
                Arguments.of(
                        "a refund with an approval token",
                        "refund",
                        refundReq + "x-approval-token: t-1\r\namount: 4000\r\n",
                        200,
                        "payment-l7-access"),
                Arguments.of("a refund without an approval token", "refund", refundReq + "amount: 4000\r\n", 403, null),
                Arguments.of(
                        "a refund over 500000",
                        "refund",
                        refundReq + "x-approval-token: t-1\r\namount: 600000\r\n",
                        403,
                        null));
    }

    @ParameterizedTest(name = "{0}: {3}")
    @MethodSource("cases")
    void theArticlesPoliciesDecide(String name, String caller, String head, int status, String policy)
            throws Exception {
        var to =
                switch (caller) {
                    case "order" -> order;
                    case "checkout" -> checkout;
                    default -> refund;
                };
        String marker = "x-case: " + Integer.toHexString(name.hashCode()) + "\r\n";
        var r = RawHttp.send(to, head + marker + "\r\n", 1500);
        assertThat(r.statuses()).as(r.response()).containsExactly(status);
        if (status == 200) {
            assertThat(r.response()).contains("served-by=payment-processor-");
        }
        if (policy != null) {
            String[] line = new String[1];
            Await.until(
                    () -> accessLog.stream()
                            .filter(l -> l.contains("\"response_code\":" + status))
                            .anyMatch(l -> (line[0] = l).contains("fintech-core/" + policy)),
                    "a log line naming " + policy);
            assertThat(line[0]).contains("\"policy\":\"fintech-core/" + policy + "\"");
        }
    }
}
