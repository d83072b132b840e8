package io.ambit.ztunnel.inbound;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.ReadAllocators;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.transport.Transport;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.inpod.sys.OriginalDestination;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.TreeSet;

/**
 * ztunnel's inbound plaintext listener (port 15006, ztunnel-reference.md §1.2) for one workload IP: plain
 * TCP that reaches the workload without HBONE, so without a peer identity. Each connection, in phases:
 * find the local workload → pick the app port → authorize (L4 policy with no peer: a STRICT
 * PeerAuthentication refuses it, PERMISSIVE leaves it to AuthorizationPolicy) → connect to the app →
 * relay. Allowed connections register with {@link LiveConnections}, so a policy edit that now denies them
 * (e.g. a switch to STRICT) closes them.
 *
 * <p>The app port: with capture (in-pod), TPROXY delivers the connection with its original destination
 * as the socket's local address (or a NAT redirect leaves it in {@code SO_ORIGINAL_DST}), so the app
 * port is the port the client dialed, as in ztunnel. A laptop has no capture, so the client dials 15006
 * itself and the original port is gone; this listener then forwards to the workload's only app port (the
 * distinct target ports of the services it backs). A workload with none or several is refused: guessing
 * would be no ztunnel behaviour, and an in-band port header would be none either.
 *
 * <p>Every connection is reported once (access log, {@code reporter="destination"} metrics with
 * {@code connection_security_policy="unknown"}), before its socket is closed.
 */
public final class PlaintextListener implements AutoCloseable {
    private final MeshSource mesh;
    private final Transport transport;
    private final AccessLog accessLog;
    private final LiveConnections live;
    private final TrafficMetrics metrics;
    private final boolean capture;
    private final boolean keepClientIp;
    private Channel listener; // set once bound, before anyone else sees this object

    private PlaintextListener(
            MeshSource mesh,
            Transport transport,
            AccessLog accessLog,
            LiveConnections live,
            TrafficMetrics metrics,
            boolean capture,
            boolean keepClientIp) {
        this.capture = capture;
        this.keepClientIp = keepClientIp;
        this.mesh = mesh;
        this.transport = transport;
        this.accessLog = accessLog;
        this.live = live;
        this.metrics = metrics;
    }

    /**
     * Binds {@code bind} (a workload's {@code ip:15006}) and serves until closed, without capture: the app
     * port is the workload's only one.
     */
    public static PlaintextListener start(
            InetSocketAddress bind,
            MeshSource mesh,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog,
            LiveConnections live,
            TrafficMetrics metrics)
            throws InterruptedException {
        return start(bind, mesh, transport, group, accessLog, live, metrics, false, false);
    }

    /**
     * Binds {@code bind} (a workload's {@code ip:15006}, or {@code 0.0.0.0:15006} in a pod) and serves
     * until closed.
     *
     * @param capture   whether connections arrive captured (TPROXY in a pod): the app port is then the
     *                  original destination's
     * @param keepClientIp connect to the app from the client's own IP (the transport's sockets are
     *                  IP_TRANSPARENT in a pod), so the app sees its real peer
     *
     * @param mesh      read once per connection
     * @param accessLog told about every connection once: at refusal, or when it ends
     * @param live      where allowed connections register, to be decided again on policy updates
     * @param metrics   {@code reporter="destination"} counters
     */
    public static PlaintextListener start(
            InetSocketAddress bind,
            MeshSource mesh,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog,
            LiveConnections live,
            TrafficMetrics metrics,
            boolean capture,
            boolean keepClientIp)
            throws InterruptedException {
        var self = new PlaintextListener(mesh, transport, accessLog, live, metrics, capture, keepClientIp);
        self.listener = transport
                .configureChildren(new ServerBootstrap()) // keepalive with ztunnel's timers
                .group(group)
                .channelFactory(transport.serverChannelFactory())
                // a listener reopened on the same address (a workload re-added) must not wait out TIME_WAIT
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, ReadAllocators.SOCKET)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel client) {
                        client.pipeline()
                                .addLast(InboundHold.NAME, new InboundHold(64 * 1024))
                                .addLast(new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelActive(ChannelHandlerContext ctx) {
                                        ctx.pipeline().remove(this);
                                        self.accept(ctx.channel());
                                    }
                                });
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

    /** One plaintext connection, on its event loop. */
    private void accept(Channel client) {
        var conn = new Conn(client);
        // With capture the local address is the original destination (TPROXY keeps it); a NAT redirect
        // would have left it in SO_ORIGINAL_DST instead.
        var local = capture ? OriginalDestination.orLocal(client) : (InetSocketAddress) client.localAddress();
        var remote = (InetSocketAddress) client.remoteAddress();

        // 1. The local workload, from the address dialed.
        MeshState state = mesh.current();
        IpAddress localIp = IpAddress.of(local.getAddress()).unmap();
        var found = state.workloadOnAnyNetwork(localIp);
        if (found.isEmpty()) {
            conn.refuse("unknown workload " + localIp);
            return;
        }
        Workload workload = found.get();
        conn.workload = workload;
        conn.source = state.workload(new NetworkAddress(
                        workload.network(), IpAddress.of(remote.getAddress()).unmap()))
                .orElse(null);

        // 2. The app port: the one dialed (capture), else the workload's only one (see the class comment).
        int port;
        if (capture) {
            port = local.getPort();
        } else {
            var ports = appPorts(state, workload);
            if (ports.size() != 1) {
                conn.flags = "CONNECT";
                conn.refuse("no single app port to forward plaintext to (workload ports: " + ports + ")");
                return;
            }
            port = ports.first();
        }
        conn.target = new InetSocketAddress(local.getAddress(), port);
        if (InboundTarget.ILLEGAL_PORTS.contains(port)) {
            conn.flags = "CONNECT";
            conn.refuse("self-call to ztunnel port " + port);
            return;
        }

        // 3. Authorize, with no peer identity: the connection is plaintext.
        var access = AccessRequest.builder()
                .sourceIp(remote.getAddress().getHostAddress())
                .destination(new AccessRequest.Destination(
                        workload.namespace(), workload.labels(), workload.serviceAccount(), null, null))
                .destinationIp(localIp.toString())
                .port(port)
                .build();
        Decision decision = state.policies().decideL4(access);
        conn.decision = decision;
        if (!decision.allowed()) {
            conn.flags = "DENY";
            conn.refuse("denied by " + decision.reason().text());
            return;
        }

        // 4. Connect to the app, then relay; registered until it ends, so policy updates re-decide it.
        conn.access = access;
        var connected = transport
                .configure(new Bootstrap()) // keepalive with ztunnel's timers
                .group(client.eventLoop())
                .channelFactory(transport.socketChannelFactory())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadAllocators.SOCKET)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new InboundHold(64 * 1024))
                .connect(conn.target, keepClientIp ? new InetSocketAddress(remote.getAddress(), 0) : null);
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                conn.flags = "CONNECT";
                conn.refuse("app unreachable: connect " + conn.target + ": " + f.cause());
                return;
            }
            Channel upstream = connected.channel();
            conn.upstream = upstream;
            upstream.closeFuture().addListener(g -> live.deregister(conn));
            metrics.opened(conn.labels());
            Relay.start(client, upstream, r -> {
                Decision revokedBy = conn.revokedBy;
                if (revokedBy != null) {
                    conn.decision = revokedBy;
                    conn.log(r.aToB(), r.bToA(), "closed: policy update now denies it: " + revokedBy.explanation());
                } else {
                    conn.log(r.aToB(), r.bToA(), r.cause() == null ? null : "relay: " + r.outcome());
                }
            });
            live.register(conn, state);
        });
    }

    /** The distinct ports {@code w} serves its services on, as the demo echo servers bind them. */
    static TreeSet<Integer> appPorts(MeshState state, Workload w) {
        var ports = new TreeSet<Integer>();
        for (var service : state.servicesOf(w)) {
            for (var p : service.ports()) {
                int target = w.targetPort(service.key(), p.servicePort());
                ports.add(target > 0 ? target : p.targetPort());
            }
        }
        return ports;
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }

    /** What one connection has learned so far, for its access-log line and for re-checks. */
    private final class Conn implements LiveConnections.Live {
        final Channel client;
        final long start = System.nanoTime();
        Workload workload;
        Workload source;
        InetSocketAddress target;
        Decision decision;
        String flags = "-";
        AccessRequest access;
        Channel upstream;
        /** Set (once, before closing the upstream) when a policy update denies the open connection. */
        volatile Decision revokedBy;

        Conn(Channel client) {
            this.client = client;
        }

        @Override
        public AccessRequest access() {
            return access;
        }

        @Override
        public void revoke(Decision now) {
            flags = "DENY";
            revokedBy = now;
            upstream.close(); // the relay then closes the client and reports once, with revokedBy
        }

        /** Reports, then closes the client: whoever sees the close can already read the report. */
        void refuse(String error) {
            log(0, 0, error);
            client.close();
        }

        TrafficMetrics.Labels labels() {
            return new TrafficMetrics.Labels(
                    "destination",
                    source,
                    null,
                    null,
                    workload,
                    workload == null ? null : workload.identity().toString(),
                    flags,
                    false);
        }

        /** The one report of this connection: its access-log line and its metrics. */
        void log(long sent, long received, String error) {
            metrics.closed(labels(), sent, received);
            var remote = (InetSocketAddress) client.remoteAddress();
            var dst = target != null ? target : (InetSocketAddress) client.localAddress();
            accessLog.log(new AccessLog.Entry(
                    "inbound",
                    remote == null ? null : Authority.of(remote).toString(), // [v6]:port, as ztunnel
                    source == null ? null : source.name(),
                    null,
                    dst == null ? null : Authority.of(dst).toString(),
                    null,
                    null,
                    workload == null ? null : workload.name(),
                    workload == null ? null : workload.identity().toString(),
                    decision == null ? null : decision.policy(),
                    decision == null ? null : decision.rule(),
                    decision == null ? null : decision.explanation(),
                    error,
                    sent,
                    received,
                    (System.nanoTime() - start) / 1_000_000,
                    source == null ? null : source.namespace(),
                    workload == null ? null : workload.namespace(),
                    // "-" with an error: the log derives its flag from the error, as before namespaces
                    "-".equals(flags) ? null : flags));
        }
    }
}
