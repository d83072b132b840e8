package io.ambit.waypoint.route;

import io.ambit.hbone.flow.ConnectionFlow;
import io.ambit.hbone.flow.ParkingFlowController;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.TraceParent;
import io.ambit.waypoint.ingress.TunnelCloser;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The upstream connections of one event loop: idle HTTP/1.1 connections and shared HTTP/2 connections per
 * endpoint, each inside an HBONE tunnel from this loop's own HBONE pool (its TLS connections live on this
 * loop too). Everything here runs on that loop, so nothing is locked. A request takes an idle HTTP/1.1
 * connection or opens a new tunnel; an HTTP/2 request takes a stream on a connection with room, waiting
 * for the one being dialed rather than dialing a second (no thundering herd).
 */
public final class LoopUpstreams {
    /** Idle HTTP/1.1 connections kept per endpoint and event loop. */
    static final int MAX_IDLE_PER_KEY = 32;

    private final EventLoop loop;
    private final HbonePool pool;
    private final SpiffeId self;
    private final InetAddress sourceIp;
    private final RouteConfig config;
    private final Deadlines deadlines;
    private final Map<UpstreamKey, ArrayDeque<H1Upstream>> idle = new HashMap<>();
    private final Map<UpstreamKey, List<H2Session>> sessions = new HashMap<>();
    private final Map<UpstreamKey, CompletableFuture<H2Session>> dialing = new HashMap<>();

    /**
     * @param pool an HBONE pool whose event-loop group is {@code loop} alone
     * @param self the waypoint's identity, presented to the endpoints' nodes
     * @param sourceIp the local address of the tunnels, or null for the system's choice
     */
    public LoopUpstreams(EventLoop loop, HbonePool pool, SpiffeId self, InetAddress sourceIp, RouteConfig config) {
        this.loop = loop;
        this.pool = pool;
        this.self = self;
        this.sourceIp = sourceIp;
        this.config = config;
        this.deadlines = new Deadlines(loop);
    }

    /** The timeouts of this loop, shared by its exchanges and connections. */
    public Deadlines deadlines() {
        return deadlines;
    }

    /**
     * An upstream for one request to {@code key}; completes on this loop. Call on this loop. When a pooled
     * connection (HTTP/1.1) or a session with room (HTTP/2) is at hand, the future is already complete.
     *
     * @param trace sent as the tunnel's {@code traceparent} when a new tunnel is dialed; asked for only then
     *     (building and validating it for every request that reuses a connection is wasted work)
     */
    public CompletableFuture<Upstream> acquire(UpstreamKey key, Supplier<TraceParent> trace) {
        return key.http2() ? acquireH2(key, trace) : acquireH1(key, trace);
    }

    private CompletableFuture<Upstream> acquireH1(UpstreamKey key, Supplier<TraceParent> trace) {
        ArrayDeque<H1Upstream> list = idle.get(key);
        if (list != null) {
            for (H1Upstream c; (c = list.pollLast()) != null; ) { // most recently used: warm, least likely stale
                if (c.checkout()) {
                    return CompletableFuture.completedFuture(c);
                }
            }
        }
        return tunnel(key, trace).thenApply(stream -> {
            Channel ch = stream.channel();
            BatchedFlushes.install(ch.parent()); // requests are written while clients' connections read
            H1Upstream upstream = new H1Upstream(ch, this, key, config.upstreamIdleTimeout(), deadlines);
            HttpDecoderConfig decoder = new HttpDecoderConfig()
                    .setMaxHeaderSize(config.maxResponseHeaderBytes())
                    .setMaxInitialLineLength(8192)
                    .setStrictLineParsing(true);
            // A graceful close ends the tunnel (the app sees a FIN); an abrupt one (H1Upstream marks it) resets it.
            ch.pipeline().addLast("closer", new TunnelCloser());
            ch.pipeline().addLast("drop-empty", io.ambit.waypoint.ingress.EmptyWrites.DROP);
            ch.pipeline().addLast("h1-client", new HttpClientCodec(decoder, true, false));
            ch.pipeline().addLast("upstream", upstream);
            InboundHold.release(ch.pipeline());
            ch.config().setAutoRead(true);
            return upstream;
        });
    }

    /**
     * A stream on a session with room, else on the session being dialed once it is ready — or, when the requests
     * that waited with this one filled that session (a burst beyond the server's stream limit), on the next one.
     * Every dial gives at least one waiting request a stream, so this ends; a server that allows no streams at all
     * fails the request instead.
     */
    private CompletableFuture<Upstream> acquireH2(UpstreamKey key, Supplier<TraceParent> trace) {
        H2Session s = withRoom(key, null);
        if (s != null) {
            return CompletableFuture.completedFuture(s.open(trace));
        }
        return reserveAfterDial(key, trace, null).thenApply(reserved -> new H2Upstream(reserved, this, trace));
    }

    /**
     * A session for the retry of a request {@code refusedBy} refused, a stream slot of it reserved: another session
     * with room, else the one being dialed, else a new one. Completes on this loop.
     */
    CompletableFuture<H2Session> reserveForRetry(UpstreamKey key, H2Session refusedBy, Supplier<TraceParent> trace) {
        H2Session s = withRoom(key, refusedBy);
        if (s != null) {
            s.reserve();
            return CompletableFuture.completedFuture(s);
        }
        return reserveAfterDial(key, trace, refusedBy);
    }

    /**
     * A session of {@code key} that can take a stream now, other than {@code avoid}; or null. A session whose
     * receive window is congested by other clients' unread responses ({@link ParkingFlowController#congested()})
     * takes no new stream: the request would wait behind them; a new session is dialed instead.
     */
    private H2Session withRoom(UpstreamKey key, H2Session avoid) {
        List<H2Session> list = sessions.get(key);
        if (list != null) {
            for (H2Session s : list) {
                if (s != avoid && s.hasCapacity() && !congested(s)) {
                    return s;
                }
            }
        }
        return null;
    }

    private static boolean congested(H2Session s) {
        return s.connection().local().flowController() instanceof ParkingFlowController p && p.congested();
    }

    /**
     * The flow-control state of this loop's upstream HTTP/2 sessions (each an HTTP/2 connection inside a tunnel):
     * which session's receive window is held by whose unread responses. A debug view; completes on this loop.
     */
    public CompletableFuture<List<ConnectionFlow>> sessionFlows() {
        CompletableFuture<List<ConnectionFlow>> out = new CompletableFuture<>();
        loop.execute(() -> {
            List<ConnectionFlow> flows = new ArrayList<>();
            sessions.forEach((key, list) -> list.forEach(s ->
                    flows.add(ConnectionFlow.of(s.connection(), key.endpoint().target()))));
            out.complete(flows);
        });
        return out;
    }

    /** Waits for the dial in progress (or a new one), then reserves a stream slot on a session with room. */
    private CompletableFuture<H2Session> reserveAfterDial(
            UpstreamKey key, Supplier<TraceParent> trace, H2Session avoid) {
        CompletableFuture<H2Session> dial = dialing.get(key);
        // A done dial is one whose session the waiters (run before its removal) just filled: dial the next.
        if (dial == null || dial.isDone()) {
            dial = dialH2(key, trace);
            dialing.put(key, dial);
            CompletableFuture<H2Session> mine = dial;
            dial.whenComplete((s, e) -> dialing.remove(key, mine));
        }
        return dial.thenCompose(dialed -> {
            if (dialed.maxStreams() <= 0) {
                return CompletableFuture.failedFuture(new java.io.IOException("the upstream HTTP/2 server at "
                        + key.endpoint().target() + " allows no streams (SETTINGS_MAX_CONCURRENT_STREAMS 0)"));
            }
            H2Session s = withRoom(key, avoid);
            if (s == null) {
                return reserveAfterDial(key, trace, avoid);
            }
            s.reserve();
            return CompletableFuture.completedFuture(s);
        });
    }

    /** A new tunnel speaking HTTP/2; completes when the server's SETTINGS arrived (its stream limit is known). */
    private CompletableFuture<H2Session> dialH2(UpstreamKey key, Supplier<TraceParent> trace) {
        return tunnel(key, trace).thenCompose(stream -> {
            Channel ch = stream.channel();
            BatchedFlushes.install(ch.parent()); // requests are written while clients' connections read
            H2Session session = new H2SessionBuilder(this, key, config, deadlines).build();
            ch.pipeline()
                    .addLast("closer", new TunnelCloser()) // GOAWAY, then END_STREAM: the app sees a FIN, not a reset
                    .addLast("h2-writes", new io.ambit.waypoint.ingress.TunnelWrites())
                    .addLast("h2-session", session);
            InboundHold.release(ch.pipeline());
            ch.config().setAutoRead(true);
            return session.ready().thenApply(ready -> {
                if (ready.live()) { // not retired by a GOAWAY in the same read as its SETTINGS
                    sessions.computeIfAbsent(key, k -> new ArrayList<>()).add(ready);
                }
                return ready;
            });
        });
    }

    // A CONNECT to the endpoint's app port through its node, presenting the waypoint's identity.
    private CompletableFuture<HboneStream> tunnel(UpstreamKey key, Supplier<TraceParent> trace) {
        Endpoint e = key.endpoint();
        PoolKey poolKey = new PoolKey(self, e.identities(), sourceIp, e.hbone());
        TunnelRequest request = new TunnelRequest(Authority.of(e.target()), null, null, trace.get(), Map.of());
        CompletableFuture<HboneStream> out = new CompletableFuture<>();
        pool.connect(poolKey, request).whenComplete((stream, error) -> {
            Runnable complete = () -> {
                if (error != null) {
                    out.completeExceptionally(error);
                } else {
                    out.complete(stream);
                }
            };
            if (loop.inEventLoop()) {
                complete.run();
            } else {
                loop.execute(complete);
            }
        });
        return out;
    }

    /**
     * Keeps a finished HTTP/1.1 connection for the next request to its endpoint; beyond
     * {@link #MAX_IDLE_PER_KEY} the oldest idle one is closed, so a burst does not leave a crowd of idle
     * tunnels behind it.
     */
    void offerIdle(H1Upstream connection) {
        ArrayDeque<H1Upstream> list = idle.computeIfAbsent(connection.key(), k -> new ArrayDeque<>());
        list.addLast(connection);
        if (list.size() > MAX_IDLE_PER_KEY) {
            list.getFirst().closeGracefully(); // takes it off the list
        }
    }

    void removeIdle(H1Upstream connection) {
        ArrayDeque<H1Upstream> list = idle.get(connection.key());
        if (list != null) {
            list.remove(connection);
            if (list.isEmpty()) {
                idle.remove(connection.key());
            }
        }
    }

    void removeSession(H2Session session) {
        List<H2Session> list = sessions.get(session.key());
        if (list != null) {
            list.remove(session);
            if (list.isEmpty()) {
                sessions.remove(session.key());
            }
        }
    }

    /** The HBONE pool of this loop (to close it). */
    public HbonePool pool() {
        return pool;
    }
}
