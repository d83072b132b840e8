package io.ambit.ztunnel.outbound;

import io.ambit.hbone.pool.DirectTunnel;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRejectedException;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.ReadAllocators;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.Forwarded;
import io.ambit.hbone.transport.Transport;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.ResponseFlags;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.ambit.ztunnel.telemetry.WorkloadBaggage;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The outbound flow of one source workload once a listener knows where a connection wants to go, in its
 * phases: route over the current mesh state ({@link OutboundRouter}) → HBONE tunnel through the pool
 * with the source's identity, or plain TCP passthrough outside the mesh → tell the listener (its reply)
 * → relay → report. The SOCKS5 listener (15080) and the original-destination listener (15001) differ
 * only in how they learn the destination and how they answer; both hand over here.
 *
 * <p>Every connection is reported once, before a failure is answered: one access-log line and
 * {@code reporter="source"} metrics (ztunnel-reference.md §7.1) with the route's destination;
 * {@code response_flags} is {@code DENY} when the destination's policy refused the tunnel and
 * {@code CONNECT} for any other failure to reach it.
 */
public final class OutboundFlow {
    private final Source source;
    private final MeshSource mesh;
    private final OutboundRouter router;
    private final HbonePool pool;
    private final Transport transport;
    private final AccessLog accessLog;
    private final TrafficMetrics metrics;
    private final OnDemandDns dns;
    /** HBONE tunnels as direct streams ({@link HbonePool#tunnel}); off with {@code -Dambit.hbone.directClientStreams=false}. */
    private final boolean directStreams = HbonePool.directClientStreams();
    /**
     * The metric labels of recent routes, shared by the connections that take them (keyed by the route
     * object, which {@link OutboundRouter} reuses): each connection would otherwise hold its own labels and
     * principal strings for as long as it is open. A few entries, searched in order, replaced round robin;
     * racy by design: a miss only resolves the labels again; entries are immutable.
     */
    private final LabelsEntry[] labelsCache = new LabelsEntry[8];

    private int nextLabelsSlot;

    private record LabelsEntry(MeshState state, Workload source, Route route, TrafficMetrics.Labels labels) {}

    /** Why a connection was not carried, for the listener's answer (SOCKS5 has a reply code for each). */
    public enum Failure {
        /** A name that is no service in the mesh (never looked up in DNS). */
        NO_SUCH_SERVICE,
        /** The destination's policy denied the tunnel (HBONE 401), or the source is no mesh workload. */
        NOT_ALLOWED,
        /** A refused route (self-call, no healthy endpoint) or a failed connect. */
        REFUSED
    }

    /** How the listener answers its client; both run on the client's event loop. */
    public interface Reply {
        /** The upstream is connected; the relay starts right after. */
        void connected(Channel client);

        /** Nothing will be relayed: answer if the protocol can, then close {@code client}. */
        void failed(Channel client, Failure failure);
    }

    /**
     * Where a connection wants to go: an IP, or a service name (SOCKS5 only; never resolved in DNS).
     *
     * @param ip   the destination IP, or null when {@code host} is given
     * @param host a service name, or null
     */
    public record Destination(IpAddress ip, String host, int port) {
        public static Destination of(InetSocketAddress address) {
            return new Destination(IpAddress.of(address.getAddress()).unmap(), null, address.getPort());
        }

        @Override
        public String toString() {
            return (ip != null ? (ip.isV4() ? ip.toString() : "[" + ip + "]") : host) + ":" + port;
        }
    }

    /**
     * Who the connections speak as.
     *
     * @param ip  the source workload's address: the HBONE client binds it (when not null) and {@code
     *            forwarded} names it
     * @param uid the source workload's uid when known (in-pod, from ZDS), else null: it is then the
     *            workload at {@code ip}
     */
    public record Source(InetAddress ip, String uid) {
        /** The workload at {@code ip} (local mode: each workload has its own listeners on its IP). */
        public static Source at(InetAddress ip) {
            return new Source(ip, null);
        }

        Optional<Workload> in(MeshState state) {
            if (uid != null) {
                return state.workloadByUid(uid);
            }
            return ip == null
                    ? Optional.empty()
                    : state.workloadOnAnyNetwork(IpAddress.of(ip).unmap());
        }
    }

    /**
     * @param hbonePort the port of every node's inbound HBONE listener (15008)
     * @param pool      the HBONE pool tunnels go through (its sockets carry the source's identity)
     * @param transport for passthrough connections
     * @param metrics   where {@code reporter="source"} counters go
     */
    public OutboundFlow(
            Source source,
            int hbonePort,
            MeshSource mesh,
            HbonePool pool,
            Transport transport,
            AccessLog accessLog,
            TrafficMetrics metrics) {
        this(source, hbonePort, mesh, pool, transport, accessLog, metrics, OnDemandDns.shared());
    }

    /** @param dns resolves the endpoints known by hostname only, at connect time */
    public OutboundFlow(
            Source source,
            int hbonePort,
            MeshSource mesh,
            HbonePool pool,
            Transport transport,
            AccessLog accessLog,
            TrafficMetrics metrics,
            OnDemandDns dns) {
        this.dns = dns;
        this.source = source;
        this.mesh = mesh;
        this.router = new OutboundRouter(
                hbonePort, bound -> ThreadLocalRandom.current().nextInt(bound));
        this.pool = pool;
        this.transport = transport;
        this.accessLog = accessLog;
        this.metrics = metrics;
    }

    /** Routes one connection and opens its upstream; on the client's event loop. */
    public void open(Channel client, Destination destination, Reply reply) {
        var conn = new Conn(client, destination, reply);
        MeshState state = mesh.current();
        conn.state = state;
        conn.source = source.in(state).orElse(null);
        Route route;
        if (destination.ip() != null) {
            route = router.route(state, conn.source, destination.ip(), destination.port());
        } else {
            var ip = IpAddress.tryParse(destination.host());
            if (ip.isPresent()) {
                route = router.route(state, conn.source, ip.get().unmap(), destination.port());
            } else {
                var service = OutboundRouter.serviceByName(state, conn.source, destination.host());
                if (service.isEmpty()) {
                    conn.fail(
                            Failure.NO_SUCH_SERVICE,
                            "CONNECT",
                            "no service named " + destination.host() + " in the mesh");
                    return;
                }
                route = router.toService(state, conn.source, service.get(), destination.port());
            }
        }
        take(conn, route);
    }

    private void take(Conn conn, Route route) {
        conn.route = route;
        switch (route) {
            case Route.Refused r -> conn.fail(Failure.REFUSED, "CONNECT", r.reason());
            case Route.Direct d -> direct(conn, d);
            case Route.Hbone h -> hbone(conn, h);
            case Route.DoubleHbone d -> doubleHbone(conn, d);
            case Route.Resolve r -> resolve(conn, r);
        }
    }

    /**
     * The endpoint is known by hostname only: its address is looked up off the event loop (cached), then the
     * connection goes on from the client's event loop. A name that does not resolve refuses the connection,
     * the access log naming the hostname.
     */
    private void resolve(Conn conn, Route.Resolve route) {
        conn.resolvedEndpoint = route.endpoint();
        metrics.onDemandDns(
                conn.source, conn.source == null ? null : conn.source.identity().toString(), route.hostname());
        dns.resolve(route.hostname())
                .whenComplete((addresses, error) -> conn.client.eventLoop().execute(() -> {
                    if (error != null) {
                        Throwable cause = error instanceof CompletionException && error.getCause() != null
                                ? error.getCause()
                                : error;
                        conn.fail(
                                Failure.REFUSED,
                                "CONNECT",
                                "on-demand DNS: hostname " + route.hostname() + " of endpoint "
                                        + route.endpoint().name() + " did not resolve: " + cause.getMessage());
                    } else if (!conn.client.isActive()) {
                        conn.fail(Failure.REFUSED, "CONNECT", "client closed while " + route.hostname() + " resolved");
                    } else {
                        take(conn, router.resolved(route, addresses));
                    }
                }));
    }

    /** Refuses a connection before routing (e.g. a self-call), reported like any other failure. */
    public void refuse(Channel client, Destination destination, Reply reply, String reason) {
        var conn = new Conn(client, destination, reply);
        conn.state = mesh.current();
        conn.source = source.in(conn.state).orElse(null);
        conn.fail(Failure.REFUSED, "CONNECT", reason);
    }

    private void direct(Conn conn, Route.Direct route) {
        var connected = transport
                .configure(new Bootstrap()) // keepalive with ztunnel's timers
                .group(conn.client.eventLoop())
                .channelFactory(transport.socketChannelFactory())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadAllocators.SOCKET)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new InboundHold(64 * 1024))
                .connect(route.target());
        connected.addListener(f -> {
            if (f.isSuccess()) {
                conn.relay(connected.channel());
            } else {
                conn.fail(Failure.REFUSED, "CONNECT", "connect " + route.target() + ": " + f.cause());
            }
        });
    }

    private void hbone(Conn conn, Route.Hbone route) {
        if (noSource(conn)) {
            return;
        }
        var key = new PoolKey(conn.source.identity(), route.identities(), source.ip(), route.hbone());
        var tunnel = TunnelRequest.to(Authority.of(route.target()))
                .withForwarded(forwarded(conn, route.service()))
                .withBaggage(baggage(conn.source));
        // on the client's event loop: the stream and the client socket then share one thread
        if (directStreams) {
            pool.tunnel(key, tunnel, conn.client.eventLoop()).whenComplete((direct, error) -> {
                if (error == null) {
                    conn.relay(direct);
                } else {
                    failed(conn, error, route.hbone());
                }
            });
        } else {
            pool.connect(key, tunnel, conn.client.eventLoop())
                    .whenComplete((stream, error) -> relayOrFail(conn, stream, error, route.hbone()));
        }
    }

    /**
     * ztunnel-reference.md §2.7: an outer tunnel to the network gateway for {@code service:port} (no
     * forwarded network), then, inside it, the inner connection to the endpoint with the same authority and
     * {@code x-forwarded-network}. The outer connection is pooled; the inner one serves this connection only.
     */
    private void doubleHbone(Conn conn, Route.DoubleHbone route) {
        if (noSource(conn)) {
            return;
        }
        var outerKey = new PoolKey(conn.source.identity(), route.gatewayIdentities(), source.ip(), route.gateway());
        var innerKey = new PoolKey(conn.source.identity(), route.identities(), source.ip(), route.gateway());
        var inner = TunnelRequest.to(route.authority())
                .withForwarded(forwarded(conn, route.service()))
                .withBaggage(baggage(conn.source))
                .withHeader("x-forwarded-network", route.network());
        pool.connect(outerKey, TunnelRequest.to(route.authority()), conn.client.eventLoop())
                .thenCompose(outer -> pool.connectThrough(outer, innerKey, inner))
                .whenComplete((stream, error) -> relayOrFail(conn, stream, error, route.gateway()));
    }

    private boolean noSource(Conn conn) {
        if (conn.source != null) {
            return false;
        }
        conn.fail(
                Failure.NOT_ALLOWED,
                "CONNECT",
                "source " + (source.ip() == null ? source.uid() : source.ip().getHostAddress())
                        + " is no workload in the mesh");
        return true;
    }

    /** ztunnel writes the client's socket address, so IPv6 in brackets: {@code for="[2001:db8::1]:4711"}. */
    private String forwarded(Conn conn, String service) {
        var remote = (InetSocketAddress) conn.client.remoteAddress();
        InetAddress forIp = source.ip() != null ? source.ip() : remote.getAddress();
        return Forwarded.format(
                Authority.of(new InetSocketAddress(forIp, remote.getPort())).toString(), service);
    }

    private static void relayOrFail(Conn conn, HboneStream stream, Throwable error, InetSocketAddress hbone) {
        if (error == null) {
            conn.relay(stream.channel());
        } else {
            failed(conn, error, hbone);
        }
    }

    /** The tunnel was refused or could not be opened: DENY for the destination's 401, else a connect failure. */
    private static void failed(Conn conn, Throwable error, InetSocketAddress hbone) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof TunnelRejectedException rejected && rejected.status() == 401) {
            conn.fail(Failure.NOT_ALLOWED, "DENY", "denied by the destination's policy (HBONE 401)");
        } else {
            conn.fail(Failure.REFUSED, ResponseFlags.forTunnelFailure(cause), "tunnel to " + hbone + ": " + cause);
        }
    }

    /** ztunnel's baggage for the source workload (ztunnel-reference.md §2.3). */
    static String baggage(Workload w) {
        return WorkloadBaggage.of(w);
    }

    /** One outbound connection, for its answer and its access-log line. */
    private final class Conn {
        final Channel client;
        /** Where the client asked to go; dropped once a route is taken (the route names the destination). */
        Destination destination;

        final Reply reply;
        final long start = System.nanoTime();
        MeshState state;
        Workload source;
        Route route;
        /** The endpoint known by hostname this connection resolved, or null: its address is no workload's IP. */
        Workload resolvedEndpoint;

        private TrafficMetrics.Labels labels; // resolved at first use; the route does not change after

        Conn(Channel client, Destination destination, Reply reply) {
            this.client = client;
            this.destination = destination;
            this.reply = reply;
        }

        /** Reports with {@code flags}, then answers: whoever sees the answer can read the report. */
        void fail(Failure failure, String flags, String error) {
            log(0, 0, flags, error);
            reply.failed(client, failure);
        }

        void relay(Channel upstream) {
            connected();
            Relay.start(client, upstream, this::relayEnded);
        }

        /** A direct HBONE stream: relayed to the client's socket on the stream's connection (same rules, same report). */
        void relay(DirectTunnel tunnel) {
            connected();
            tunnel.relay(client, this::relayEnded);
        }

        private void connected() {
            destination = null; // the route says where; not kept for as long as the connection is open
            metrics.opened(labels("-"));
            reply.connected(client);
        }

        /** {@code aToB}: what the client sent; {@code bToA}: what it received. */
        private void relayEnded(RelayResult r) {
            log(r.aToB(), r.bToA(), "-", r.cause() == null ? null : "relay: " + r.outcome());
        }

        /** {@link #resolveLabels}, once per connection (it looks the service up among all services). */
        TrafficMetrics.Labels labels(String flags) {
            if (labels == null) {
                labels = sharedLabels();
            }
            return "-".equals(flags) ? labels : labels.withResponseFlags(flags);
        }

        /** {@link #resolveLabels}, or the labels an earlier connection on the same route resolved. */
        private TrafficMetrics.Labels sharedLabels() {
            if (!(route instanceof Route.Hbone
                    || route instanceof Route.Direct
                    || route instanceof Route.DoubleHbone)) {
                return resolveLabels("-");
            }
            for (LabelsEntry e : labelsCache) {
                if (e != null && e.route() == route && e.state() == state && e.source() == source) {
                    return e.labels();
                }
            }
            TrafficMetrics.Labels resolved = resolveLabels("-");
            int slot = nextLabelsSlot;
            nextLabelsSlot = (slot + 1) % labelsCache.length;
            labelsCache[slot] = new LabelsEntry(state, source, route, resolved);
            return resolved;
        }

        /**
         * CommonTrafficLabels as the source reports them: this workload, and the route's destination
         * (workload by the target IP, service by hostname).
         */
        private TrafficMetrics.Labels resolveLabels(String flags) {
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
                case Route.DoubleHbone d -> {
                    destination = d.endpoint();
                    service = service(d.service());
                    principal = destination.identity().toString();
                    mtls = true;
                }
                case Route.Resolve r -> {
                    destination = r.endpoint();
                    service = service(r.service());
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
            if (resolvedEndpoint != null) {
                return resolvedEndpoint;
            }
            return state.workload(OutboundRouter.on(
                            source, IpAddress.of(target.getAddress()).unmap()))
                    .orElse(null);
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
            String dstAddr = destination == null ? null : destination.toString();
            String hboneAddr = null;
            String service = null;
            String workload = null;
            String identity = null;
            Workload dstWorkload = null;
            switch (route) {
                case Route.Hbone h -> {
                    dstAddr = Authority.of(h.target()).toString();
                    hboneAddr = Authority.of(h.hbone()).toString();
                    service = h.service();
                    workload = h.workload();
                    identity = h.identities().iterator().next().toString();
                    dstWorkload = workloadAt(h.target());
                }
                case Route.Direct d -> {
                    dstAddr = Authority.of(d.target()).toString();
                    service = d.service();
                    workload = d.workload();
                    dstWorkload = workloadAt(d.target());
                }
                case Route.DoubleHbone d -> {
                    dstAddr = d.authority().toString();
                    hboneAddr = Authority.of(d.gateway()).toString();
                    service = d.service();
                    workload = d.endpoint().name();
                    identity = d.endpoint().identity().toString();
                    dstWorkload = d.endpoint();
                }
                case Route.Resolve r -> {
                    dstAddr = r.hostname() + ":" + r.port();
                    service = r.service();
                    workload = r.endpoint().name();
                    dstWorkload = r.endpoint();
                }
                case Route.Refused r -> {}
                case null -> {}
            }
            accessLog.log(new AccessLog.Entry(
                    "outbound",
                    remote == null ? null : Authority.of(remote).toString(), // [v6]:port, as ztunnel
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
                    (System.nanoTime() - start) / 1_000_000,
                    source == null ? null : source.namespace(),
                    dstWorkload == null ? null : dstWorkload.namespace(),
                    // "-" with an error: the log derives its flag from the error, as before namespaces
                    "-".equals(flags) ? null : flags));
        }
    }
}
