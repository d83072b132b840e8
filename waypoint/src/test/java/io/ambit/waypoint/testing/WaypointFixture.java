package io.ambit.waypoint.testing;

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
import io.ambit.waypoint.Waypoint;
import io.ambit.waypoint.WaypointConfig;
import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.xds.mesh.NetworkAddress;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A small mesh on 127.92.N.0/24 (logical: {@link TestNet} moves it to this JVM's block) with a real waypoint in the middle: clients {@code sleep} (.10) and
 * {@code curl} (.11) reach the waypoint (.1, HBONE :15008) through hbone's TCP-to-HBONE listener (what
 * {@code ambit hbone forward} runs), the waypoint forwards over HBONE to the nodes of {@code httpbin-1}
 * (.21) and {@code httpbin-2} (.22) — each a real HBONE server dialing its app, as a destination ztunnel
 * does — and the apps are {@link EchoBackend}s on :8080. Services: {@code httpbin} (VIP .100, port 8000,
 * through the waypoint), {@code empty} (VIP .101, no endpoints), {@code elsewhere} (VIP .102, another
 * waypoint's), {@code greeter} (VIP .103, port 9090 on the same workloads, for gRPC tests that start their
 * own servers there).
 */
public final class WaypointFixture implements AutoCloseable {
    public static final SpiffeId SLEEP = new SpiffeId("cluster.local", "default", "sleep");
    public static final SpiffeId CURL = new SpiffeId("cluster.local", "default", "curl");
    public static final SpiffeId HTTPBIN = new SpiffeId("cluster.local", "default", "httpbin");
    public static final SpiffeId WAYPOINT = new SpiffeId("cluster.local", "default", "waypoint");

    public final String net;
    public final Pki pki;
    public final Transport transport = Transports.select();
    public final EventLoopGroup group;
    public final StaticMesh mesh;
    public final List<EchoBackend> backends = new ArrayList<>();
    public final List<String> accessLog = new CopyOnWriteArrayList<>();
    public final Waypoint waypoint;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final HbonePool clientPool;
    private final ClientTls clientTls;

    /** The mesh document (no policies) for network {@code net} ({@code 127.92.N}). */
    public static String meshYaml(String net) {
        return """
                mesh:
                  rootNamespace: istio-system
                  trustDomain: cluster.local
                  extendedConditions: true
                workloads:
                - {name: sleep, namespace: default, serviceAccount: sleep, workloadIps: ["NET.10"], labels: {app: sleep}}
                - {name: curl, namespace: default, serviceAccount: curl, workloadIps: ["NET.11"], labels: {app: curl}}
                - name: waypoint
                  namespace: default
                  serviceAccount: waypoint
                  workloadIps: ["NET.1"]
                  labels: {gateway.networking.k8s.io/gateway-name: waypoint}
                - name: httpbin-1
                  namespace: default
                  serviceAccount: httpbin
                  workloadIps: ["NET.21"]
                  labels: {app: httpbin, version: v1}
                  canonicalName: httpbin
                  canonicalRevision: v1
                  services:
                    "default/httpbin.default.svc.cluster.local": {8000: 8080}
                    "default/greeter.default.svc.cluster.local": {9090: 9090}
                - name: httpbin-2
                  namespace: default
                  serviceAccount: httpbin
                  workloadIps: ["NET.22"]
                  labels: {app: httpbin, version: v1}
                  canonicalName: httpbin
                  canonicalRevision: v1
                  services:
                    "default/httpbin.default.svc.cluster.local": {8000: 8080}
                    "default/greeter.default.svc.cluster.local": {9090: 9090}
                services:
                - name: httpbin
                  namespace: default
                  hostname: httpbin.default.svc.cluster.local
                  vips: ["/NET.100"]
                  ports: {8000: 8080}
                  waypoint: {destination: {address: "/NET.1"}}
                - name: empty
                  namespace: default
                  hostname: empty.default.svc.cluster.local
                  vips: ["/NET.101"]
                  ports: {8000: 8080}
                  waypoint: {destination: {address: "/NET.1"}}
                - name: greeter
                  namespace: default
                  hostname: greeter.default.svc.cluster.local
                  vips: ["/NET.103"]
                  ports: {9090: 9090}
                  waypoint: {destination: {address: "/NET.1"}}
                - name: elsewhere
                  namespace: default
                  hostname: elsewhere.default.svc.cluster.local
                  vips: ["/NET.102"]
                  ports: {8000: 8080}
                  waypoint: {destination: {address: "/NET.99"}}
                """.replace("NET", net);
    }

    /**
     * Starts everything on {@code 127.92.<subnet>.0/24} (in this JVM's block: {@link #net}) with {@code policies}
     * (YAML documents, may be empty).
     */
    public static WaypointFixture start(int subnet, String policies) throws Exception {
        return start(subnet, policies, c -> c);
    }

    public static WaypointFixture start(int subnet, String policies, UnaryOperator<WaypointConfig> tune)
            throws Exception {
        return start(subnet, policies, tune, 2);
    }

    /**
     * As {@link #start(int, String, UnaryOperator)} on {@code loops} event loops (2 otherwise). With one, every
     * tunnel and exchange shares one thread, so the waypoint has one set of upstream connections, which every
     * client's requests share: for tests of what one client can do to another's (the waypoint keeps its upstream
     * connections per loop, and which loop a tunnel lands on is otherwise not the test's to choose).
     */
    public static WaypointFixture start(int subnet, String policies, UnaryOperator<WaypointConfig> tune, int loops)
            throws Exception {
        return new WaypointFixture(TestNet.net(92) + "." + subnet, policies, tune, loops);
    }

    private WaypointFixture(String net, String policies, UnaryOperator<WaypointConfig> tune, int loops)
            throws Exception {
        this.net = net;
        this.pki = new Pki();
        this.group = transport.newEventLoopGroup(loops, "wp-test");
        this.mesh = new StaticMesh(meshYaml(net) + (policies == null || policies.isBlank() ? "" : "---\n" + policies));
        this.clientTls = new ClientTls(TlsSettings.defaults());
        this.clientPool = new HbonePool(
                PoolConfig.defaults(), clientTls, SourceCertificates.from(pki.certificates), transport, group);
        Waypoint started = null;
        try {
            for (String host : List.of("21", "22")) {
                InetAddress ip = ip(host);
                var backend = EchoBackend.start(
                        "httpbin-" + (host.equals("21") ? 1 : 2), transport, group, new InetSocketAddress(ip, 8080));
                backends.add(backend);
                opened.add(backend);
                var tls = ServerTls.forIdentity(pki.certificates, HTTPBIN, TlsSettings.defaults(), null);
                pki.certificates.certificate(HTTPBIN).get(30, TimeUnit.SECONDS);
                HboneServer node = HboneServer.start(
                                HboneServerConfig.defaults(new InetSocketAddress(ip, 15008)),
                                tls,
                                new TargetDialer(transport),
                                transport,
                                group)
                        .get(30, TimeUnit.SECONDS);
                opened.add(node);
                opened.add(tls);
            }
            var self = new WaypointIdentity(
                    "waypoint", "default", WAYPOINT, Set.of(NetworkAddress.parse("/" + net + ".1")), null);
            InetAddress wp = ip("1");
            var config = tune.apply(WaypointConfig.defaults(self, wp)
                    .withPorts(
                            new InetSocketAddress(wp, 15008),
                            new InetSocketAddress(wp, 15020),
                            new InetSocketAddress(wp, 15021)));
            started = Waypoint.start(config, mesh, pki.certificates, transport, group, AccessLog.to(accessLog::add));
        } catch (Exception e) {
            closeAll();
            throw e;
        }
        this.waypoint = started;
    }

    public InetAddress ip(String host) throws Exception {
        return InetAddress.getByName(net + "." + host);
    }

    /** {@code net.100:8000}, the httpbin service. */
    public InetSocketAddress httpbin() throws Exception {
        return new InetSocketAddress(ip("100"), 8000);
    }

    /**
     * A local TCP port whose connections reach the waypoint as {@code client} (its HBONE certificate),
     * tunnelled to {@code target}: what the client's ztunnel does for a service with a waypoint.
     */
    public InetSocketAddress clientPort(SpiffeId client, InetSocketAddress target) throws Exception {
        InetAddress clientIp = ip(client.equals(CURL) ? "11" : "10");
        var key = new PoolKey(client, Set.of(WAYPOINT), clientIp, waypoint.hboneAddress());
        var listener = TcpTunnelListener.start(
                transport, group, () -> clientPool, key, target, true, new InetSocketAddress(clientIp, 0));
        opened.add(listener);
        return listener.address();
    }

    /** The last access-log line that satisfies {@code match}, waiting for it (a request logs when it ends). */
    public String awaitLog(java.util.function.Predicate<String> match) throws InterruptedException {
        String[] found = new String[1];
        Await.until(
                () -> {
                    for (int i = accessLog.size() - 1; i >= 0; i--) {
                        if (match.test(accessLog.get(i))) {
                            found[0] = accessLog.get(i);
                            return true;
                        }
                    }
                    return false;
                },
                "an access log line matching the condition; have " + accessLog);
        return found[0];
    }

    @Override
    public void close() {
        if (waypoint != null) {
            waypoint.close();
        }
        closeAll();
    }

    private void closeAll() {
        clientPool.close();
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                // keep closing
            }
        }
        clientTls.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        pki.close();
    }
}
