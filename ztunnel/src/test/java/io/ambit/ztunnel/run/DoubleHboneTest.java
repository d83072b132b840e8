package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.server.ConnectResponse;
import io.ambit.hbone.server.ConnectStatus;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.tunnel.TargetDialer;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ztunnel-reference.md §1.4 step 3 and §2.7: a service endpoint on another network is reached through
 * that network's gateway. A real curl speaks SOCKS5 to the client's ztunnel (network net-a) for a service
 * whose only endpoint is on net-b; the client's ztunnel opens an outer HBONE tunnel to the east-west
 * gateway for {@code service:port}, and inside it a second mutual-TLS connection and CONNECT to the
 * endpoint's ztunnel, which maps the service port to the endpoint's target port. The gateway here is an
 * HBONE server that does what Istio's east-west gateway does with such a CONNECT: it sends the stream's
 * bytes, as they are, to the endpoint's 15008 — so it sees the client's identity on the outer tunnel and
 * only TLS records inside. The endpoint's ztunnel logs the client's identity from the inner certificate
 * and does not take the gateway's address for the client's workload.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DoubleHboneTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, node: node-a, network: net-a, workloadIps: ["127.137.1.1"]}
            - name: web
              namespace: shop
              serviceAccount: web
              node: node-b
              network: net-b
              workloadIps: ["127.137.2.1"]
              networkGateway: {destination: {address: "net-b/127.137.3.1"}, hboneMtlsPort: 15008}
              services: {"shop/web.shop.svc.cluster.local": {9080: 9082}}
            - name: eastwest
              namespace: istio-system
              serviceAccount: eastwest
              node: gateway
              network: net-b
              protocol: TCP
              workloadIps: ["127.137.3.1"]
            - name: stranded
              namespace: shop
              serviceAccount: web
              node: node-b
              network: net-c
              workloadIps: ["127.137.4.1"]
              services: {"shop/island.shop.svc.cluster.local": {9080: 9082}}
            services:
            - {name: web, namespace: shop, hostname: web.shop.svc.cluster.local, vips: ["net-b/127.137.9.1"], ports: {9080: 9082}}
            - {name: island, namespace: shop, hostname: island.shop.svc.cluster.local, vips: ["net-c/127.137.9.2"], ports: {9080: 9082}}
            """;

    static final SpiffeId CLIENT = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/client");
    static final SpiffeId GATEWAY = SpiffeId.parse("spiffe://cluster.local/ns/istio-system/sa/eastwest");

    @TempDir
    Path dir;

    @Test
    void aServiceOnAnotherNetworkIsReachedThroughItsGateway() throws Exception {
        Files.writeString(dir.resolve("mesh.yaml"), MESH);
        List<AccessLog.Entry> log = new CopyOnWriteArrayList<>();
        HttpServer app = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.137.2.1"), 9082), 8);
        app.createContext("/", exchange -> {
            byte[] body = "hello from web on net-b".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        app.start();
        try (var mesh = LocalMesh.start(LocalMesh.Config.of(dir.resolve("mesh.yaml"), dir.resolve("ca")).toBuilder()
                        .ports(Node.Ports.builder().admin(0).dns(0).build())
                        .demos(false)
                        .accessLog(log::add)
                        .build());
                var gateway = new EastWestGateway(mesh)) {
            var curl = LocalMeshTest.curl("127.137.1.1:15080", "http://web.shop.svc.cluster.local:9080/");
            assertThat(curl.exit()).as(curl.out() + " access log: " + log).isZero();
            assertThat(curl.out()).isEqualTo("hello from web on net-b");

            assertThat(gateway.connects)
                    .as("the gateway saw one outer CONNECT, for the service, from the client's identity")
                    .containsExactly("web.shop.svc.cluster.local:9080 from " + CLIENT);
            var inbound = awaitEntry(log, "inbound");
            assertThat(inbound.dstAddr()).isEqualTo("web.shop.svc.cluster.local:9080");
            assertThat(inbound.srcIdentity())
                    .as("the inner TLS is the client's, end to end")
                    .isEqualTo(CLIENT.toString());
            assertThat(inbound.srcWorkload())
                    .as("the gateway's address is not the client's workload")
                    .isNull();
            assertThat(inbound.dstWorkload()).isEqualTo("web");
            var outbound = awaitEntry(log, "outbound");
            assertThat(outbound.dstHboneAddr()).isEqualTo("127.137.3.1:15008");
            assertThat(outbound.dstWorkload()).isEqualTo("web");

            var stranded = LocalMeshTest.curl("127.137.1.1:15080", "http://island.shop.svc.cluster.local:9080/");
            assertThat(stranded.exit())
                    .as("an endpoint on another network without a gateway is not reachable: " + stranded)
                    .isNotZero();
        } finally {
            app.stop(0);
        }
    }

    private static AccessLog.Entry awaitEntry(List<AccessLog.Entry> log, String direction) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            for (var e : log) {
                if (e.direction().equals(direction) && "web".equals(e.dstWorkload())) {
                    return e;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no " + direction + " access-log entry for web in " + log);
    }

    /**
     * Istio's east-west gateway, as far as double HBONE needs it: HBONE with the gateway's identity on
     * 127.137.3.1:15008; a CONNECT for {@code web.shop.svc.cluster.local:9080} goes, as raw bytes, to the
     * endpoint's 15008.
     */
    static final class EastWestGateway implements ConnectHandler, AutoCloseable {
        final List<String> connects = new CopyOnWriteArrayList<>();
        final TargetDialer dialer;
        final ServerTls tls;
        final HboneServer server;

        EastWestGateway(LocalMesh mesh) throws Exception {
            mesh.certificates().certificate(GATEWAY).get(30, TimeUnit.SECONDS);
            tls = ServerTls.forIdentity(mesh.certificates(), GATEWAY, TlsSettings.defaults(), null);
            dialer = new TargetDialer(mesh.transport(), a -> false);
            server = HboneServer.start(
                            HboneServerConfig.defaults(new InetSocketAddress("127.137.3.1", 15008)),
                            tls,
                            this,
                            mesh.transport(),
                            mesh.loops())
                    .get(30, TimeUnit.SECONDS);
        }

        @Override
        public CompletionStage<ConnectResponse> onConnect(ConnectRequest request) {
            connects.add(request.authority() + " from " + request.peer().identity());
            if (!request.authority().toString().equals("web.shop.svc.cluster.local:9080")) {
                return CompletableFuture.completedFuture(
                        ConnectResponse.reject(ConnectStatus.SERVICE_UNAVAILABLE, "no such service here"));
            }
            return dialer.dial(request, new InetSocketAddress("127.137.2.1", 15008), null);
        }

        @Override
        public void close() {
            server.close();
            tls.close();
        }
    }
}
