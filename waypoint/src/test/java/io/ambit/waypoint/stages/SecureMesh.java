package io.ambit.waypoint.stages;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.ConnectRequest;
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
import io.ambit.waypoint.local.LocalWaypoints;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.Pki;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.StaticMesh;
import io.ambit.waypoint.testing.TestNet;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A mesh with the waypoints a YAML file declares, started as {@code ambit run} starts them
 * ({@link LocalWaypoints}: the real security stages, providers from the mesh config's
 * {@code extensionProviders}), on {@code 127.98.N.0/24} (logical: {@link TestNet} moves it to this JVM's block). Each app is an {@link EchoBackend} on
 * {@code :8080} behind a real HBONE server on {@code :15008} holding the workload's certificate (what a
 * destination ztunnel does); clients reach the waypoint through hbone's TCP-to-HBONE listener with their
 * own certificate (what the source ztunnel does). {@code NET} in the YAML stands for {@link #net}.
 */
public final class SecureMesh implements AutoCloseable {
    public final String net;
    public final Pki pki;
    public final Transport transport = Transports.select();
    public final EventLoopGroup group;
    public final StaticMesh mesh;
    public final List<String> accessLog = new CopyOnWriteArrayList<>();
    public final LocalWaypoints waypoints;
    private final Map<String, EchoBackend> apps = new java.util.LinkedHashMap<>();
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final ClientTls clientTls;
    private final HbonePool clientPool;

    /**
     * Starts the mesh of {@code yaml} on {@code 127.98.<subnet>}.
     *
     * @param apps host part ({@code "21"}) → the identity of the workload there; each gets an app and a node
     */
    public static SecureMesh start(int subnet, String yaml, Map<String, SpiffeId> apps) throws Exception {
        return new SecureMesh(TestNet.net(98) + "." + subnet, yaml, apps, Map.of(), c -> c);
    }

    /** A workload whose app is the test's own server: only its HBONE node is started here. */
    public record Node(SpiffeId id, Consumer<ConnectRequest> seen) {}

    /**
     * As {@link #start(int, String, Map)}, and {@code nodes} (host part → node) started before the waypoints,
     * so that a provider behind one is there when the waypoint first dials it.
     */
    public static SecureMesh start(int subnet, String yaml, Map<String, SpiffeId> apps, Map<String, Node> nodes)
            throws Exception {
        return start(subnet, yaml, apps, nodes, c -> c);
    }

    /** As above, each waypoint's configuration tuned by {@code tune} (as {@code LocalWaypoints.Options} does). */
    public static SecureMesh start(
            int subnet,
            String yaml,
            Map<String, SpiffeId> apps,
            Map<String, Node> nodes,
            java.util.function.UnaryOperator<io.ambit.waypoint.WaypointConfig> tune)
            throws Exception {
        return new SecureMesh(TestNet.net(98) + "." + subnet, yaml, apps, nodes, tune);
    }

    private SecureMesh(
            String net,
            String yaml,
            Map<String, SpiffeId> appIds,
            Map<String, Node> nodes,
            java.util.function.UnaryOperator<io.ambit.waypoint.WaypointConfig> tune)
            throws Exception {
        this.net = net;
        this.pki = new Pki();
        this.group = transport.newEventLoopGroup(2, "secure-mesh");
        this.mesh = new StaticMesh(yaml.replace("NET", net));
        this.clientTls = new ClientTls(TlsSettings.defaults());
        this.clientPool = new HbonePool(
                PoolConfig.defaults(), clientTls, SourceCertificates.from(pki.certificates), transport, group);
        LocalWaypoints started = null;
        try {
            for (var app : appIds.entrySet()) {
                startApp(app.getKey(), app.getValue());
            }
            for (var node : nodes.entrySet()) {
                startNode(node.getKey(), node.getValue().id(), node.getValue().seen());
            }
            started = LocalWaypoints.start(
                    mesh,
                    pki.certificates,
                    transport,
                    group,
                    AccessLog.to(accessLog::add),
                    new LocalWaypoints.Options(d -> true, new LocalWaypoints.Ports(15008, 0, 0), tune));
        } catch (Exception e) {
            closeAll();
            throw e;
        }
        this.waypoints = started;
    }

    private void startApp(String host, SpiffeId id) throws Exception {
        InetAddress ip = ip(host);
        var backend = EchoBackend.start("app-" + host, transport, group, new InetSocketAddress(ip, 8080));
        apps.put(host, backend);
        opened.add(backend);
        startNode(host, id, r -> {});
    }

    /**
     * Starts only the HBONE node of the workload on {@code host} (its app is the test's own server there);
     * {@code seen} hears of every CONNECT it accepts, before it dials the app.
     */
    public void startNode(String host, SpiffeId id, Consumer<ConnectRequest> seen) throws Exception {
        InetAddress ip = ip(host);
        var dialer = new TargetDialer(transport);
        ConnectHandler recording = request -> {
            seen.accept(request);
            return dialer.onConnect(request);
        };
        var tls = ServerTls.forIdentity(pki.certificates, id, TlsSettings.defaults(), null);
        opened.add(tls);
        pki.certificates.certificate(id).get(30, TimeUnit.SECONDS);
        HboneServer node = HboneServer.start(
                        HboneServerConfig.defaults(new InetSocketAddress(ip, 15008)), tls, recording, transport, group)
                .get(30, TimeUnit.SECONDS);
        opened.add(node);
    }

    /** Closes the app's listener: nobody answers at {@code host}:8080 from now on. */
    public void stopApp(String host) {
        apps.get(host).close();
    }

    public InetAddress ip(String host) throws Exception {
        return InetAddress.getByName(net + "." + host);
    }

    /** The app on {@code host} (e.g. {@code "21"}). */
    public EchoBackend app(String host) {
        return apps.get(host);
    }

    /** The one waypoint the YAML declares. */
    public Waypoint waypoint() {
        return waypoints.waypoints().getFirst();
    }

    /**
     * A local TCP port (on {@code NET.<clientHost>}) whose connections reach the waypoint over HBONE as
     * {@code client}, tunnelled to {@code target}: what the client's ztunnel does for a service with a
     * waypoint. Each TCP connection is its own HBONE tunnel (its own downstream connection at the waypoint).
     */
    public InetSocketAddress clientPort(SpiffeId client, String clientHost, InetSocketAddress target) throws Exception {
        InetAddress clientIp = ip(clientHost);
        var w = waypoint();
        var key = new PoolKey(client, Set.of(w.config().self().identity()), clientIp, w.hboneAddress());
        var listener = TcpTunnelListener.start(
                transport, group, () -> clientPool, key, target, true, new InetSocketAddress(clientIp, 0));
        opened.add(listener);
        return listener.address();
    }

    @Override
    public void close() {
        if (waypoints != null) {
            waypoints.close();
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

    /** curl's status code and body: {@code -w} puts the code on the last line. */
    public record Answer(int status, String body) {}

    /** Runs curl (HTTP/1.1 unless {@code args} say otherwise) to {@code path} through the client listener {@code via}. */
    public static Answer curl(InetSocketAddress via, String path, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-m", "20", "-w", "\n%{http_code}"));
        cmd.addAll(List.of(args));
        cmd.add("http://" + via.getAddress().getHostAddress() + ":" + via.getPort() + path);
        var r = Processes.run(cmd, Duration.ofSeconds(40));
        if (r.exit() != 0) {
            throw new AssertionError("curl failed: " + r);
        }
        int nl = r.out().lastIndexOf('\n');
        return new Answer(
                Integer.parseInt(r.out().substring(nl + 1).trim()), r.out().substring(0, nl));
    }
}
