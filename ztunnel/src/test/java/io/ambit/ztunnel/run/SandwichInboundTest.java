package io.ambit.ztunnel.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.pool.TunnelRejectedException;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.ztunnel.node.Node;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ztunnel-reference.md §1.5 and §2.6, the inbound cases where the {@code :authority} is not the dialed
 * address: a workload with an application tunnel (a sandwiched waypoint or gateway) takes any target
 * and, with {@code protocol: Proxy}, gets a PROXY v2 header first — the client's address, the target
 * it asked for, TLV 0xD0 with the client's SPIFFE id from its certificate, TLV 0xD1 with the service
 * hostname of a hostname authority — on the tunnel's port; a waypoint without a tunnel takes the
 * services and workloads it is the waypoint of, and nothing else (400); a {@code host:port} authority
 * (double HBONE) reaches the service's target port on the dialed workload, 503 when the name or port is
 * unknown. The PROXY header is parsed here byte by byte, as the PROXY protocol specification lays it out.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SandwichInboundTest {
    static final String CLIENT_IP = "127.136.1.1";
    static final String GATEWAY_IP = "127.136.1.2";
    static final String WAYPOINT_IP = "127.136.1.3";
    static final String WEB_IP = "127.136.1.4";

    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, node: node-a, workloadIps: ["127.136.1.1"]}
            - name: gateway
              namespace: shop
              serviceAccount: gateway
              node: node-b
              workloadIps: ["127.136.1.2"]
              applicationTunnel: {protocol: Proxy, port: 15088}
              services: {"shop/gateway.shop.svc.cluster.local": {9080: 9081}}
            - name: locked
              namespace: shop
              serviceAccount: gateway
              node: node-b
              workloadIps: ["127.136.1.5"]
              labels: {app: locked}
              applicationTunnel: {protocol: Proxy, port: 15089}
            - name: waypoint
              namespace: shop
              serviceAccount: waypoint
              node: node-b
              workloadIps: ["127.136.1.3"]
              services: {"shop/waypoint.shop.svc.cluster.local": {15008: 15008}}
            - name: web
              namespace: shop
              serviceAccount: web
              node: node-b
              workloadIps: ["127.136.1.4"]
              services: {"shop/web.shop.svc.cluster.local": {9080: 9082}}
            services:
            - {name: gateway, namespace: shop, hostname: gateway.shop.svc.cluster.local, vips: ["/127.136.9.5"], ports: {9080: 9081}}
            - {name: waypoint, namespace: shop, hostname: waypoint.shop.svc.cluster.local, vips: ["/127.136.9.9"], ports: {15008: 15008}}
            - name: orders
              namespace: shop
              hostname: orders.shop.svc.cluster.local
              vips: ["/127.136.9.1"]
              ports: {9080: 9080}
              waypoint: {destination: {address: "/127.136.1.3"}}
            - name: cart
              namespace: shop
              hostname: cart.shop.svc.cluster.local
              vips: ["/127.136.9.2"]
              ports: {9080: 9080}
              waypoint: {destination: {hostname: {namespace: shop, hostname: waypoint.shop.svc.cluster.local}}}
            - {name: web, namespace: shop, hostname: web.shop.svc.cluster.local, vips: ["/127.136.9.4"], ports: {9080: 9082}}
            - {name: other, namespace: shop, hostname: other.shop.svc.cluster.local, vips: ["/127.136.9.3"], ports: {9080: 9080}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: no-tunnel-port, namespace: shop}
            spec:
              selector: {matchLabels: {app: locked}}
              action: DENY
              rules:
              - to: [{operation: {ports: ["15089"]}}]
            """;

    static final SpiffeId CLIENT = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/client");

    @TempDir
    Path dir;

    private LocalMesh mesh;
    private ClientTls tls;
    private HbonePool pool;
    private final Map<String, App> apps = new LinkedHashMap<>();

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("mesh.yaml");
        Files.writeString(file, MESH);
        // no demo apps: the test's own apps read what arrives
        mesh = LocalMesh.start(LocalMesh.Config.of(file, dir.resolve("ca")).toBuilder()
                .ports(Node.Ports.builder().admin(0).dns(0).build())
                .demos(false)
                .build());
        tls = new ClientTls(TlsSettings.defaults());
        pool = new HbonePool(
                PoolConfig.defaults(),
                tls,
                SourceCertificates.from(mesh.certificates()),
                mesh.transport(),
                mesh.loops());
    }

    @AfterEach
    void stop() throws Exception {
        for (var app : apps.values()) {
            app.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (tls != null) {
            tls.close();
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void aProxyTunnelStartsWithTheClientsAddressTheTargetAndTheClientsIdentity() throws Exception {
        var app = app(GATEWAY_IP, 15088, true);

        send(GATEWAY_IP, "gateway", "127.136.9.77:443", "hello");

        var got = app.next();
        assertThat(got.header()).as("a PROXY v2 header first").isNotNull();
        assertThat(got.header().source().getAddress().getHostAddress()).isEqualTo(CLIENT_IP);
        assertThat(got.header().source().getPort()).isPositive();
        assertThat(got.header().destination()).isEqualTo(new InetSocketAddress("127.136.9.77", 443));
        assertThat(got.header().tlvs()).containsOnlyKeys(0xD0);
        assertThat(got.header().tlvs().get(0xD0)).isEqualTo(CLIENT.toString());
        assertThat(got.payload()).as("then the client's bytes").isEqualTo("hello");
    }

    @Test
    void aProxyTunnelForAHostnameCarriesAVipOfTheServiceAndItsHostname() throws Exception {
        var app = app(GATEWAY_IP, 15088, true);

        send(GATEWAY_IP, "gateway", "gateway.shop.svc.cluster.local:9080", "named");

        var got = app.next();
        assertThat(got.header().destination()).isEqualTo(new InetSocketAddress("127.136.9.5", 9080));
        assertThat(got.header().tlvs())
                .containsEntry(0xD0, CLIENT.toString())
                .containsEntry(0xD1, "gateway.shop.svc.cluster.local");
        assertThat(got.payload()).isEqualTo("named");
    }

    @Test
    void aSandwichedWaypointTakesWhatItIsTheWaypointOfAndNothingElse() throws Exception {
        var app = app(WAYPOINT_IP, 9080, false);

        send(WAYPOINT_IP, "waypoint", "127.136.9.1:9080", "by-address"); // orders: waypoint by address
        assertThat(app.next().payload()).as("no PROXY header without a tunnel").isEqualTo("by-address");
        send(WAYPOINT_IP, "waypoint", "127.136.9.2:9080", "by-hostname"); // cart: waypoint by service
        assertThat(app.next().payload()).isEqualTo("by-hostname");

        assertThat(status(WAYPOINT_IP, "waypoint", "127.136.9.3:9080"))
                .as("a service with no waypoint, named through the waypoint's listener")
                .isEqualTo(400);
        assertThat(status(WAYPOINT_IP, "waypoint", WEB_IP + ":9082"))
                .as("another pod, named through the waypoint's listener")
                .isEqualTo(400);
    }

    @Test
    void aHostnameAuthorityReachesTheServicesTargetPortOnTheDialedWorkload() throws Exception {
        var app = app(WEB_IP, 9082, false);

        send(WEB_IP, "web", "web.shop.svc.cluster.local:9080", "double-hbone");
        assertThat(app.next().payload()).isEqualTo("double-hbone");

        assertThat(status(WEB_IP, "web", "nothing.shop.svc.cluster.local:9080"))
                .as("no such service")
                .isEqualTo(503);
        assertThat(status(WEB_IP, "web", "web.shop.svc.cluster.local:9081"))
                .as("no such service port")
                .isEqualTo(503);
    }

    @Test
    void policyDecidesOnThePortTheTunnelReaches() throws Exception {
        app("127.136.1.5", 15089, true);

        assertThat(status("127.136.1.5", "gateway", "127.136.9.77:443"))
                .as("the client asked for 443; the tunnel reaches 15089, which the policy denies")
                .isEqualTo(401);
    }

    // ---- helpers

    private PoolKey key(String ip, String serviceAccount) {
        return new PoolKey(
                CLIENT,
                Set.of(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/" + serviceAccount)),
                new InetSocketAddress(CLIENT_IP, 0).getAddress(),
                new InetSocketAddress(ip, 15008));
    }

    /** Opens a tunnel and sends {@code payload}, then ends our side. */
    private void send(String ip, String serviceAccount, String authority, String payload) throws Exception {
        var stream = pool.connect(key(ip, serviceAccount), TunnelRequest.to(Authority.parse(authority)))
                .get(20, TimeUnit.SECONDS);
        stream.channel().write(Unpooled.copiedBuffer(payload, StandardCharsets.US_ASCII));
        stream.channel().writeAndFlush(HboneStreamCodec.END_STREAM).sync(); // the app reads to the end
    }

    private int status(String ip, String serviceAccount, String authority) {
        Throwable failure =
                catchThrowable(() -> pool.connect(key(ip, serviceAccount), TunnelRequest.to(Authority.parse(authority)))
                        .get(20, TimeUnit.SECONDS)
                        .channel()
                        .close());
        assertThat(failure).as("CONNECT " + authority).isInstanceOf(ExecutionException.class);
        assertThat(failure.getCause()).isInstanceOf(TunnelRejectedException.class);
        return ((TunnelRejectedException) failure.getCause()).status();
    }

    private App app(String ip, int port, boolean proxyProtocol) throws IOException {
        var app = new App(new ServerSocket(port, 8, InetAddress.getByName(ip)), proxyProtocol);
        apps.put(ip + ":" + port, app);
        return app;
    }

    record ProxyHeader(InetSocketAddress source, InetSocketAddress destination, Map<Integer, String> tlvs) {}

    record Received(ProxyHeader header, String payload) {}

    /** An app that reads, per connection, an optional PROXY v2 header and then what the client sent. */
    static final class App implements AutoCloseable {
        final ServerSocket socket;
        final boolean proxyProtocol;
        final BlockingQueue<Object> received = new ArrayBlockingQueue<>(16);
        final Thread acceptor;

        App(ServerSocket socket, boolean proxyProtocol) {
            this.socket = socket;
            this.proxyProtocol = proxyProtocol;
            this.acceptor = Thread.ofVirtual().start(this::accept);
        }

        Received next() throws Exception {
            Object r = received.poll(20, TimeUnit.SECONDS);
            assertThat(r)
                    .as("a connection reached the app at " + socket.getLocalSocketAddress())
                    .isNotNull();
            if (r instanceof Exception e) {
                throw e;
            }
            return (Received) r;
        }

        private void accept() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    s.setSoTimeout(20_000);
                    var in = new DataInputStream(s.getInputStream());
                    ProxyHeader header = proxyProtocol ? readHeader(in) : null;
                    received.offer(new Received(header, new String(in.readAllBytes(), StandardCharsets.US_ASCII)));
                } catch (IOException e) {
                    if (!socket.isClosed()) {
                        received.offer(e);
                    }
                }
            }
        }

        /** The PROXY protocol v2 binary header (the specification's section 2.2), for TCP over IPv4. */
        private static ProxyHeader readHeader(DataInputStream in) throws IOException {
            byte[] fixed = new byte[16];
            in.readFully(fixed);
            byte[] signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
            assertThat(Arrays.copyOf(fixed, 12)).as("signature").isEqualTo(signature);
            assertThat(fixed[12]).as("version 2, command PROXY").isEqualTo((byte) 0x21);
            assertThat(fixed[13]).as("AF_INET, STREAM").isEqualTo((byte) 0x11);
            int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
            byte[] rest = new byte[length];
            in.readFully(rest);
            var b = ByteBuffer.wrap(rest);
            byte[] src = new byte[4];
            byte[] dst = new byte[4];
            b.get(src).get(dst);
            int srcPort = Short.toUnsignedInt(b.getShort());
            int dstPort = Short.toUnsignedInt(b.getShort());
            var tlvs = new LinkedHashMap<Integer, String>();
            while (b.hasRemaining()) {
                int type = b.get() & 0xff;
                int len = Short.toUnsignedInt(b.getShort());
                byte[] value = new byte[len];
                b.get(value);
                assertThat(tlvs.put(type, new String(value, StandardCharsets.UTF_8)))
                        .as("TLV 0x%x once", type)
                        .isNull();
            }
            return new ProxyHeader(
                    new InetSocketAddress(InetAddress.getByAddress(src), srcPort),
                    new InetSocketAddress(InetAddress.getByAddress(dst), dstPort),
                    tlvs);
        }

        @Override
        public void close() throws Exception {
            socket.close();
            acceptor.join(5_000);
        }
    }
}
