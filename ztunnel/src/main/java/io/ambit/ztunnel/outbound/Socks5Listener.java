package io.ambit.ztunnel.outbound;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRejectedException;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.transport.Transport;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * ztunnel's SOCKS5 outbound listener (local mode, port 15080), for one source workload: it listens on
 * that workload's own IP, so whoever connects to it speaks as that workload (as a pod's traffic is that
 * pod's). Each connection: SOCKS5 handshake ({@link Socks5Handshake}) → route over the current mesh
 * state ({@link OutboundRouter}) → HBONE tunnel through the node's pool with the source workload's
 * identity, or plain TCP passthrough outside the mesh → reply → relay.
 *
 * <p>Reply codes: {@code 0x04} for a name that is no service in the mesh (never looked up in DNS),
 * {@code 0x02} when the destination's policy denied the tunnel (HBONE 401), {@code 0x05} for a refused
 * route (no healthy endpoint) or a failed connect.
 *
 * <p>Every connection is reported once, before a failure reply is sent: one access-log line and
 * {@code reporter="source"} metrics (ztunnel-reference.md §7.1) with the route's destination;
 * {@code response_flags} is {@code DENY} when the destination's policy refused the tunnel and
 * {@code CONNECT} for any other failure to reach it.
 */
public final class Socks5Listener implements AutoCloseable {
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    private final InetAddress sourceIp;
    private final MeshSource mesh;
    private final OutboundRouter router;
    private final HbonePool pool;
    private final Transport transport;
    private final AccessLog accessLog;
    private final TrafficMetrics metrics;
    private Channel listener; // set once bound, before anyone else sees this object

    private Socks5Listener(
            InetAddress sourceIp,
            MeshSource mesh,
            OutboundRouter router,
            HbonePool pool,
            Transport transport,
            AccessLog accessLog,
            TrafficMetrics metrics) {
        this.metrics = metrics;
        this.sourceIp = sourceIp;
        this.mesh = mesh;
        this.router = router;
        this.pool = pool;
        this.transport = transport;
        this.accessLog = accessLog;
    }

    /**
     * Binds {@code bind} (the source workload's {@code ip:15080}) and serves until closed.
     *
     * @param hbonePort the port of every node's inbound HBONE listener (15008)
     * @param metrics   where {@code reporter="source"} counters go (the node's registry)
     */
    public static Socks5Listener start(
            InetSocketAddress bind,
            int hbonePort,
            MeshSource mesh,
            HbonePool pool,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog,
            TrafficMetrics metrics)
            throws InterruptedException {
        var router = new OutboundRouter(
                hbonePort, bound -> ThreadLocalRandom.current().nextInt(bound));
        var self = new Socks5Listener(bind.getAddress(), mesh, router, pool, transport, accessLog, metrics);
        self.listener = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel client) {
                        client.pipeline()
                                .addLast(Socks5Handshake.NAME, new Socks5Handshake(self::open, HANDSHAKE_TIMEOUT))
                                .addLast(InboundHold.NAME, new InboundHold(64 * 1024));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return self;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Routes one handshaken connection and opens its upstream. */
    private void open(Channel client, Socks5Handshake.Request request) {
        var conn = new Conn(client, request);
        MeshState state = mesh.current();
        conn.state = state;
        conn.source = state.workload(IpAddress.of(sourceIp)).orElse(null);
        Route route;
        if (request.ip() != null) {
            route = router.route(state, conn.source, request.ip(), request.port());
        } else {
            var ip = IpAddress.tryParse(request.host());
            if (ip.isPresent()) {
                route = router.route(state, conn.source, ip.get().unmap(), request.port());
            } else {
                var service = OutboundRouter.serviceByName(state, request.host());
                if (service.isEmpty()) {
                    conn.fail(
                            Socks5Handshake.HOST_UNREACHABLE,
                            "CONNECT",
                            "no service named " + request.host() + " in the mesh");
                    return;
                }
                route = router.toService(state, service.get(), request.port());
            }
        }
        conn.route = route;
        switch (route) {
            case Route.Refused r -> conn.fail(Socks5Handshake.CONNECTION_REFUSED, "CONNECT", r.reason());
            case Route.Direct d -> direct(conn, d);
            case Route.Hbone h -> hbone(conn, h);
        }
    }

    private void direct(Conn conn, Route.Direct route) {
        var connected = new Bootstrap()
                .group(conn.client.eventLoop())
                .channel(transport.socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new InboundHold(64 * 1024))
                .connect(route.target());
        connected.addListener(f -> {
            if (f.isSuccess()) {
                conn.relay(connected.channel());
            } else {
                conn.fail(
                        Socks5Handshake.CONNECTION_REFUSED, "CONNECT", "connect " + route.target() + ": " + f.cause());
            }
        });
    }

    private void hbone(Conn conn, Route.Hbone route) {
        if (conn.source == null) {
            conn.fail(
                    Socks5Handshake.NOT_ALLOWED,
                    "CONNECT",
                    "source " + sourceIp.getHostAddress() + " is no workload in the mesh");
            return;
        }
        var key = new PoolKey(conn.source.identity(), route.identities(), sourceIp, route.hbone());
        var remote = (InetSocketAddress) conn.client.remoteAddress();
        String forwarded = "for=\"" + sourceIp.getHostAddress() + ":" + remote.getPort() + "\""
                + (route.service() == null ? "" : ";host=" + route.service());
        var tunnel = TunnelRequest.to(Authority.of(route.target()))
                .withForwarded(forwarded)
                .withBaggage(baggage(conn.source));
        pool.connect(key, tunnel).whenComplete((stream, error) -> {
            if (error == null) {
                conn.relay(stream.channel());
                return;
            }
            Throwable cause =
                    error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof TunnelRejectedException rejected && rejected.status() == 401) {
                conn.fail(Socks5Handshake.NOT_ALLOWED, "DENY", "denied by the destination's policy (HBONE 401)");
            } else {
                conn.fail(Socks5Handshake.CONNECTION_REFUSED, "CONNECT", "tunnel to " + route.hbone() + ": " + cause);
            }
        });
    }

    /** ztunnel's baggage for the source workload (ztunnel-reference.md §2.3). */
    static String baggage(Workload w) {
        var b = new StringBuilder("k8s.namespace.name=").append(w.namespace());
        b.append(",k8s.pod.name=").append(w.name());
        if (w.canonicalName() != null && !w.canonicalName().isEmpty()) {
            b.append(",service.name=").append(w.canonicalName());
        }
        if (w.canonicalRevision() != null && !w.canonicalRevision().isEmpty()) {
            b.append(",service.version=").append(w.canonicalRevision());
        }
        return b.toString();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }

    /** One SOCKS5 connection, for its reply and its access-log line. */
    private final class Conn {
        final Channel client;
        final Socks5Handshake.Request request;
        final long start = System.nanoTime();
        MeshState state;
        Workload source;
        Route route;

        Conn(Channel client, Socks5Handshake.Request request) {
            this.client = client;
            this.request = request;
        }

        /** Reports with {@code flags}, then replies {@code code}: whoever sees the reply can read the report. */
        void fail(byte code, String flags, String error) {
            log(0, 0, flags, error);
            Socks5Handshake.fail(client, code);
        }

        void relay(Channel upstream) {
            metrics.opened(labels("-"));
            Socks5Handshake.reply(client, Socks5Handshake.SUCCEEDED);
            Relay.start(client, upstream).result().whenComplete((r, e) -> {
                RelayResult result = r;
                log(
                        result == null ? 0 : result.aToB(),
                        result == null ? 0 : result.bToA(),
                        "-",
                        e != null ? e.toString() : result.cause() == null ? null : "relay: " + result.outcome());
            });
        }

        /**
         * CommonTrafficLabels as the source reports them: this workload, and the route's destination
         * (workload by the target IP, service by hostname).
         */
        TrafficMetrics.Labels labels(String flags) {
            Workload destination = null;
            Service service = null;
            String principal = null;
            boolean mtls = false;
            switch (route) {
                case Route.Hbone h -> {
                    destination = workloadAt(h.target());
                    service = service(h.service());
                    principal = destination != null
                            ? destination.identity().toString()
                            : h.identities().iterator().next().toString();
                    mtls = true;
                }
                case Route.Direct d -> {
                    destination = workloadAt(d.target());
                    service = service(d.service());
                }
                case Route.Refused r -> {}
                case null -> {}
            }
            return new TrafficMetrics.Labels(
                    "source",
                    source,
                    source == null ? null : source.identity().toString(),
                    service,
                    destination,
                    principal,
                    flags,
                    mtls);
        }

        private Workload workloadAt(InetSocketAddress target) {
            return state.workload(IpAddress.of(target.getAddress()).unmap()).orElse(null);
        }

        private Service service(String hostname) {
            if (hostname == null) {
                return null;
            }
            return state.services().stream()
                    .filter(s -> s.hostname().equals(hostname))
                    .findFirst()
                    .orElse(null);
        }

        /** The one report of this connection: its metrics and its access-log line. */
        void log(long sent, long received, String flags, String error) {
            metrics.closed(labels(flags), sent, received);
            var remote = (InetSocketAddress) client.remoteAddress();
            String dstAddr = request.toString();
            String hboneAddr = null;
            String service = null;
            String workload = null;
            String identity = null;
            switch (route) {
                case Route.Hbone h -> {
                    dstAddr = Authority.of(h.target()).toString();
                    hboneAddr = Authority.of(h.hbone()).toString();
                    service = h.service();
                    workload = h.workload();
                    identity = h.identities().iterator().next().toString();
                }
                case Route.Direct d -> {
                    dstAddr = Authority.of(d.target()).toString();
                    service = d.service();
                    workload = d.workload();
                }
                case Route.Refused r -> {}
                case null -> {}
            }
            accessLog.log(new AccessLog.Entry(
                    "outbound",
                    remote == null ? null : remote.getAddress().getHostAddress() + ":" + remote.getPort(),
                    source == null ? null : source.name(),
                    source == null ? null : source.identity().toString(),
                    dstAddr,
                    hboneAddr,
                    service,
                    workload,
                    identity,
                    null,
                    null,
                    null,
                    error,
                    sent,
                    received,
                    (System.nanoTime() - start) / 1_000_000));
        }
    }
}
