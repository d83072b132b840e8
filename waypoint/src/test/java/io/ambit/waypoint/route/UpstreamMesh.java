package io.ambit.waypoint.route;

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
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.Pki;
import io.ambit.waypoint.testing.StaticMesh;
import io.ambit.xds.mesh.NetworkAddress;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A mesh on 127.102.N.0/24 whose one endpoint app is the test's own server: the client {@code sleep} (.10)
 * reaches the waypoint (.1) through hbone's TCP-to-HBONE listener; service {@code app} (VIP .100, port 8000)
 * has one endpoint, {@code app-1} (.21), whose node (a real HBONE server on .21:15008) dials the app on
 * .21:8080 — which the test starts (a Node HTTP/2 server), so all requests share one upstream key.
 */
final class UpstreamMesh implements AutoCloseable {
    static final SpiffeId SLEEP = new SpiffeId("cluster.local", "default", "sleep");
    static final SpiffeId APP = new SpiffeId("cluster.local", "default", "app");
    static final SpiffeId WAYPOINT = new SpiffeId("cluster.local", "default", "waypoint");

    final String net;
    final List<String> accessLog = new CopyOnWriteArrayList<>();
    private final Pki pki = new Pki();
    private final Transport transport = Transports.select();
    private final EventLoopGroup group;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final ClientTls clientTls = new ClientTls(TlsSettings.defaults());
    private final HbonePool clientPool;
    private final Waypoint waypoint;
    private HboneServer node;

    static String meshYaml(String net) {
        return """
                mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
                workloads:
                - {name: sleep, namespace: default, serviceAccount: sleep, workloadIps: ["NET.10"]}
                - name: waypoint
                  namespace: default
                  serviceAccount: waypoint
                  workloadIps: ["NET.1"]
                  labels: {gateway.networking.k8s.io/gateway-name: waypoint}
                - name: app-1
                  namespace: default
                  serviceAccount: app
                  workloadIps: ["NET.21"]
                  services: {"default/app.default.svc.cluster.local": {8000: 8080}}
                services:
                - name: app
                  namespace: default
                  hostname: app.default.svc.cluster.local
                  vips: ["/NET.100"]
                  ports: {8000: 8080}
                  waypoint: {destination: {address: "/NET.1"}}
                """.replace("NET", net);
    }

    UpstreamMesh(int subnet) throws Exception {
        this.net = "127.102." + subnet;
        this.group = transport.newEventLoopGroup(2, "wup-test");
        this.clientPool = new HbonePool(
                PoolConfig.defaults(), clientTls, SourceCertificates.from(pki.certificates), transport, group);
        Waypoint started = null;
        try {
            var tls = ServerTls.forIdentity(pki.certificates, APP, TlsSettings.defaults(), null);
            opened.add(tls);
            pki.certificates.certificate(APP).get(30, TimeUnit.SECONDS);
            node = HboneServer.start(
                            HboneServerConfig.defaults(new InetSocketAddress(ip("21"), 15008)),
                            tls,
                            new TargetDialer(transport),
                            transport,
                            group)
                    .get(30, TimeUnit.SECONDS);
            opened.add(node);
            var self = new WaypointIdentity(
                    "waypoint", "default", WAYPOINT, Set.of(NetworkAddress.parse("/" + net + ".1")), null);
            InetAddress wp = ip("1");
            var config = WaypointConfig.defaults(self, wp)
                    .withPorts(
                            new InetSocketAddress(wp, 15008),
                            new InetSocketAddress(wp, 15020),
                            new InetSocketAddress(wp, 15021));
            started = Waypoint.start(
                    config,
                    new StaticMesh(meshYaml(net)),
                    pki.certificates,
                    transport,
                    group,
                    AccessLog.to(accessLog::add));
        } catch (Exception e) {
            closeAll();
            throw e;
        }
        this.waypoint = started;
    }

    InetAddress ip(String host) throws Exception {
        return InetAddress.getByName(net + "." + host);
    }

    /** Tunnels open now on the endpoint's node: one per upstream connection of the waypoint. */
    long tunnelsToTheApp() {
        return node.stats().streamsOpen();
    }

    /** Where the app must listen: {@code .21:8080}. */
    InetSocketAddress appAddress() throws Exception {
        return new InetSocketAddress(ip("21"), 8080);
    }

    /** A local port whose connections reach service {@code app} through the waypoint, as {@code sleep}. */
    InetSocketAddress clientPort() throws Exception {
        var key = new PoolKey(SLEEP, Set.of(WAYPOINT), ip("10"), waypoint.hboneAddress());
        var listener = TcpTunnelListener.start(
                transport,
                group,
                () -> clientPool,
                key,
                new InetSocketAddress(ip("100"), 8000),
                true,
                new InetSocketAddress(ip("10"), 0));
        opened.add(listener);
        return listener.address();
    }

    /** The access-log line of the first request whose line matches, waiting for it (a request logs when it ends). */
    String awaitLog(Predicate<String> match) throws InterruptedException {
        String[] found = new String[1];
        Await.until(
                () -> {
                    for (String l : accessLog) {
                        if (match.test(l)) {
                            found[0] = l;
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
