package io.ambit.hbone.pool;

import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.cert.Subscription;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.flow.ConnectionFlow;
import io.ambit.hbone.metrics.HboneMetrics;
import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.ReadAllocators;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.RevokedPeers;
import io.ambit.hbone.transport.Channels;
import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pooled HBONE client connections (ztunnel-reference.md §2.5). {@link #connect} checks out a connection
 * for the key — one with a free stream slot, else the dial in flight for that key, else a new dial —
 * opens a CONNECT stream on it and completes when the server answers 200.
 *
 * <ul>
 *   <li>A connection carries up to {@code http2.maxConcurrentStreams} streams (100), fewer if the server's
 *       SETTINGS say so; then another connection is dialed. One dial per key at a time.
 *   <li>GOAWAY, an error, or {@code idleTimeout} without a checkout retires a connection: it takes no new
 *       streams and closes when its last stream ends.
 *   <li>A stream the server did not process (GOAWAY, REFUSED_STREAM) is retried once on another connection.
 *   <li>When {@code tls} has a {@link RevocationChecker}, revoked servers are refused in the handshake, and
 *       each CRL update closes the connections (and their tunnels) to servers it revokes.
 *   <li>Event-loop affinity: {@link #connect(PoolKey, TunnelRequest, EventLoop)} keeps a key's connections
 *       per event loop, so that a tunnel's stream lives on the loop of the socket it is relayed to (one
 *       thread per tunnel, no hand-over between threads for each read and write). A key then has at most
 *       one set of connections per loop of the group (one loop per core by default).
 * </ul>
 *
 * The event-loop group belongs to the caller.
 */
public final class HbonePool implements AutoCloseable {
    private static final int DIALS_PER_CHECKOUT = 3;
    /** The system property that turns direct client streams off for same-build comparisons. */
    public static final String DIRECT_PROPERTY = "ambit.hbone.directClientStreams";

    private static final Logger log = LoggerFactory.getLogger(HbonePool.class);

    private final PoolConfig config;
    private final ClientTls tls;
    private final SourceCertificates certificates;
    private final Transport transport;
    private final EventLoopGroup group;
    private final ConcurrentHashMap<KeyPool.Slot, KeyPool> pools = new ConcurrentHashMap<>();
    private final LongAdder dials = new LongAdder();
    private final LongAdder dialFailures = new LongAdder();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Set<Channel> live = ConcurrentHashMap.newKeySet(); // pooled, retired or dialing
    private final HboneMetrics.Side meters;
    private final Subscription revocations;
    /** Every stream's write limits: one immutable object for all (a stream holds it as long as it is open). */
    private final WriteBufferWaterMark streamWaterMark;

    /** A pool without metrics. */
    public HbonePool(
            PoolConfig config,
            ClientTls tls,
            SourceCertificates certificates,
            Transport transport,
            EventLoopGroup group) {
        this(config, tls, certificates, transport, group, HboneMetrics.none());
    }

    /**
     * A pool presenting {@code certificates}, counting handshakes, open connections and streams in {@code
     * metrics} ({@code reporter=source}).
     */
    public HbonePool(
            PoolConfig config,
            ClientTls tls,
            SourceCertificates certificates,
            Transport transport,
            EventLoopGroup group,
            HboneMetrics metrics) {
        this.config = config;
        this.tls = tls;
        this.certificates = certificates;
        this.transport = transport;
        this.group = group;
        this.meters = metrics.source();
        this.streamWaterMark = new WriteBufferWaterMark(
                config.http2().maxSendBuffer() / 2, config.http2().maxSendBuffer());
        this.revocations = RevokedPeers.closeOnRevocation(tls.revocations(), live, meters);
    }

    /**
     * Opens a tunnel: a CONNECT stream to {@code request.authority()} over a pooled connection for
     * {@code key}. Completes with the stream once the server answers 200; fails with
     * {@link TunnelRejectedException} for another status, or with the connection or TLS error.
     */
    public CompletableFuture<HboneStream> connect(PoolKey key, TunnelRequest request) {
        return attempt(new KeyPool.Slot(key, null, false), request, 1, this::open);
    }

    /**
     * {@link #connect(PoolKey, TunnelRequest)} over a connection living on {@code loop}: the stream, its
     * reads and its writes then run on that loop, and the future completes there. Give the event loop of
     * the channel the tunnel will be relayed to. A loop that is not one of this pool's group is ignored
     * (any loop of the group is used).
     */
    public CompletableFuture<HboneStream> connect(PoolKey key, TunnelRequest request, EventLoop loop) {
        return attempt(new KeyPool.Slot(key, ownLoopOrNull(loop), false), request, 1, this::open);
    }

    /**
     * Direct mode of {@link #connect(PoolKey, TunnelRequest, EventLoop)}: the CONNECT stream is a plain object on the
     * connection's HTTP/2 codec, no Netty child channel (cheaper per read and write, about 1 KB less per open tunnel),
     * relayed straight to the caller's socket by {@link DirectTunnel#relay}. Same answers and failures as {@code
     * connect} ({@link TunnelRejectedException}, connection and TLS errors; a stream the server never processed is
     * retried once on another connection). Direct streams travel on connections of their own (see {@link
     * DirectClientStreams}); the key's child-channel connections are not used for them.
     */
    public CompletableFuture<DirectTunnel> tunnel(PoolKey key, TunnelRequest request, EventLoop loop) {
        return attempt(new KeyPool.Slot(key, ownLoopOrNull(loop), true), request, 1, this::openDirect);
    }

    /** {@value #DIRECT_PROPERTY} (default true): whether callers relaying to a socket use {@link #tunnel}. */
    public static boolean directClientStreams() {
        return !"false".equalsIgnoreCase(System.getProperty(DIRECT_PROPERTY, "true"));
    }

    private EventLoop ownLoopOrNull(EventLoop loop) {
        return loop != null && ownLoop(loop) ? loop : null;
    }

    /**
     * Double HBONE's inner tunnel (ztunnel-reference.md §2.7): a second mutual-TLS connection carried by the
     * stream of {@code outer} (an open tunnel to a network gateway), verifying {@code key}'s destination
     * identities end to end, HTTP/2 over it, and one CONNECT for {@code request}. Not pooled, as ztunnel's:
     * the inner connection takes no other stream and closes when its stream ends, closing {@code outer}.
     * {@code key.sourceIp()} and {@code key.destination()} are not dialed; they name the connection in logs.
     */
    public CompletableFuture<HboneStream> connectThrough(HboneStream outer, PoolKey key, TunnelRequest request) {
        Http2StreamChannel carrier = outer.channel();
        KeyPool unpooled = new KeyPool(key, carrier.eventLoop(), false, this);
        unpooled.removed = true; // never in the map: nothing else checks it out
        CompletableFuture<PooledConnection> dialed = new CompletableFuture<>();
        certificates.certificateFor(key.source()).whenComplete((cert, error) -> {
            if (error != null) {
                dialed.completeExceptionally(error);
                carrier.close();
                return;
            }
            carrier.eventLoop().execute(() -> {
                try {
                    carrier.pipeline()
                            .addLast("tls", tls.newHandler(carrier.alloc(), cert, key.destinationIdentities()))
                            .addLast("hbone-setup", new ClientConnectionSetup(unpooled, tls, meters, config, dialed));
                    InboundHold.release(carrier.pipeline());
                    carrier.config().setAutoRead(true);
                } catch (IOException | RuntimeException e) {
                    dialed.completeExceptionally(e);
                    carrier.close();
                }
            });
        });
        return dialed.thenCompose(connection -> {
            synchronized (unpooled) {
                connection.tryReserve(System.nanoTime());
            }
            connection.retire("double HBONE: one stream"); // closes after it
            return open(connection, request);
        });
    }

    private boolean ownLoop(EventLoop loop) {
        for (EventExecutor e : group) {
            if (e == loop) {
                return true;
            }
        }
        return false;
    }

    /**
     * Connections currently pooled for {@code key}, on every event loop (not counting retired ones still
     * finishing streams).
     */
    public int connectionCount(PoolKey key) {
        int n = 0;
        for (KeyPool pool : pools.values()) {
            if (pool.key.equals(key)) {
                synchronized (pool) {
                    n += pool.connections.size();
                }
            }
        }
        return n;
    }

    /** Connection attempts so far, and how many of them failed. */
    public PoolStats stats() {
        int open = 0;
        for (KeyPool pool : pools.values()) {
            synchronized (pool) {
                open += pool.connections.size();
            }
        }
        return new PoolStats(dials.sum(), dialFailures.sum(), open);
    }

    /**
     * The flow-control state of every connection of this pool (pooled, retired or dialing with HTTP/2 up), each
     * taken on its event loop: which connection's receive window is held by unread bytes. For debugging and tests.
     */
    public CompletableFuture<List<ConnectionFlow>> flows() {
        List<CompletableFuture<ConnectionFlow>> each = new ArrayList<>();
        for (Channel channel : live) {
            CompletableFuture<ConnectionFlow> one = new CompletableFuture<>();
            try {
                channel.eventLoop().execute(() -> one.complete(ConnectionFlow.of(channel)));
            } catch (java.util.concurrent.RejectedExecutionException shutDown) {
                one.complete(null);
            }
            each.add(one);
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> each.stream()
                .map(CompletableFuture::join)
                .filter(java.util.Objects::nonNull)
                .toList());
    }

    private <T> CompletableFuture<T> attempt(
            KeyPool.Slot slot,
            TunnelRequest request,
            int retries,
            BiFunction<PooledConnection, TunnelRequest, CompletableFuture<T>> opener) {
        return checkout(slot, DIALS_PER_CHECKOUT)
                .thenCompose(connection -> opener.apply(connection, request))
                .exceptionallyCompose(e -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    return cause instanceof StreamRefusedException && retries > 0
                            ? attempt(slot, request, retries - 1, opener)
                            : CompletableFuture.failedFuture(cause);
                });
    }

    // Checkout: a free slot on a ready connection, else wait for this key's dial (starting one if none).
    private CompletableFuture<PooledConnection> checkout(KeyPool.Slot slot, int dialsLeft) {
        PoolKey key = slot.key();
        while (true) {
            if (closed.get()) {
                return CompletableFuture.failedFuture(new IOException("HBONE pool is closed"));
            }
            KeyPool pool = pools.computeIfAbsent(slot, s -> new KeyPool(s.key(), s.loop(), s.direct(), this));
            CompletableFuture<PooledConnection> dial;
            int left = dialsLeft;
            synchronized (pool) {
                if (pool.removed) {
                    continue; // emptied and dropped meanwhile: take the fresh one
                }
                long now = System.nanoTime();
                for (PooledConnection c : pool.connections) {
                    if (c.tryReserve(now)) {
                        return CompletableFuture.completedFuture(c);
                    }
                }
                if (pool.dialing == null) {
                    if (dialsLeft == 0) {
                        return CompletableFuture.failedFuture(new IOException("no HBONE connection to " + key
                                + " could take a stream after " + DIALS_PER_CHECKOUT + " dials"));
                    }
                    left--;
                    pool.dialing = dial(pool);
                }
                dial = pool.dialing;
            }
            int remaining = left;
            return dial.thenCompose(c -> checkout(slot, remaining));
        }
    }

    // Dial: certificate, TCP, TLS, HTTP/2, the server's SETTINGS. Published only after it joined the pool.
    private CompletableFuture<PooledConnection> dial(KeyPool pool) {
        CompletableFuture<PooledConnection> published = new CompletableFuture<>();
        dials.increment();
        certificates
                .certificateFor(pool.key.source())
                .toCompletableFuture()
                .thenCompose(cert -> connectTls(pool, cert))
                .whenComplete((connection, error) -> {
                    boolean orphan = false;
                    synchronized (pool) {
                        if (pool.dialing == published) {
                            pool.dialing = null;
                        }
                        if (connection != null) {
                            if (pool.removed || closed.get()) {
                                orphan = true;
                            } else {
                                pool.connections.add(connection);
                            }
                        }
                    }
                    if (orphan) {
                        connection.channel.close();
                    }
                    if (error != null) {
                        dialFailures.increment();
                        log.debug("HBONE dial {} failed: {}", pool.key, error.toString());
                        forgetIfEmpty(pool);
                        published.completeExceptionally(
                                error instanceof CompletionException && error.getCause() != null
                                        ? error.getCause()
                                        : error);
                    } else if (orphan) {
                        published.completeExceptionally(new IOException("HBONE pool is closed"));
                    } else {
                        published.complete(connection);
                    }
                });
        return published;
    }

    private CompletableFuture<PooledConnection> connectTls(KeyPool pool, WorkloadCertificate cert) {
        CompletableFuture<PooledConnection> dialed = new CompletableFuture<>();
        // keepalive with ztunnel's timers (TcpKeepalive), not the kernel's 2 hours
        Bootstrap bootstrap = transport
                .configure(new Bootstrap())
                .group(pool.loop != null ? pool.loop : group)
                .channelFactory(transport.socketChannelFactory())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        live.add(channel);
                        channel.closeFuture().addListener(f -> live.remove(channel));
                        try {
                            channel.pipeline()
                                    .addLast(
                                            "tls",
                                            tls.newHandler(channel.alloc(), cert, pool.key.destinationIdentities()))
                                    .addLast(
                                            "hbone-setup",
                                            new ClientConnectionSetup(pool, tls, meters, config, dialed));
                        } catch (IOException | RuntimeException e) {
                            dialed.completeExceptionally(e);
                            channel.close();
                        }
                    }
                });
        // Register first and connect with a promise whose listener is attached before the connect starts: a
        // refused connect then fails the dial with its own cause (ConnectException) before the channel's close
        // reaches ClientConnectionSetup's "closed during setup". Bootstrap.connect's future would race that.
        ChannelFuture registered = bootstrap.register();
        Channel channel = registered.channel();
        registered.addListener(r -> {
            if (!r.isSuccess()) {
                dialed.completeExceptionally(r.cause());
                return;
            }
            ChannelPromise connected = channel.newPromise();
            connected.addListener(f -> {
                if (!f.isSuccess()) {
                    dialed.completeExceptionally(f.cause());
                    channel.close();
                }
            });
            if (pool.key.sourceIp() == null) {
                channel.connect(pool.key.destination(), connected);
            } else {
                channel.connect(pool.key.destination(), new InetSocketAddress(pool.key.sourceIp(), 0), connected);
            }
        });
        return dialed;
    }

    // Open: a new stream on a reserved slot, the CONNECT headers, then the answer.
    private CompletableFuture<HboneStream> open(PooledConnection connection, TunnelRequest request) {
        CompletableFuture<HboneStream> tunnel = new CompletableFuture<>();
        String target = request.authority().toString();
        Http2StreamChannelBootstrap bootstrap = new Http2StreamChannelBootstrap(connection.channel)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, streamWaterMark)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadAllocators.STREAM)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        stream.pipeline()
                                .addLast("hbone-codec", HboneStreamCodec.INSTANCE)
                                .addLast("hbone-response", new ConnectResponseHandler(target, tunnel))
                                .addLast(InboundHold.NAME, new InboundHold(config.heldResponseBytes()));
                    }
                });
        bootstrap.open().addListener(f -> {
            if (!f.isSuccess()) {
                connection.release();
                tunnel.completeExceptionally(f.cause());
                return;
            }
            Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
            stream.closeFuture().addListener(c -> connection.release());
            meters.streamOpened(stream);
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers(request), false))
                    .addListener(w -> {
                        if (!w.isSuccess()) {
                            tunnel.completeExceptionally(w.cause());
                            stream.close();
                        }
                    });
        });
        return tunnel;
    }

    // Open, direct: a ClientStream on the connection's DirectClientStreams, on its event loop.
    private CompletableFuture<DirectTunnel> openDirect(PooledConnection connection, TunnelRequest request) {
        CompletableFuture<DirectTunnel> tunnel = new CompletableFuture<>();
        DirectClientStreams streams = connection.directStreams;
        Http2Headers headers = headers(request);
        String target = request.authority().toString();
        try {
            connection.channel.eventLoop().execute(() -> {
                ClientStream stream = new ClientStream(streams, connection, target, tunnel);
                if (!connection.channel.isActive()) {
                    stream.openFailed(new IOException("HBONE connection closed before CONNECT " + target), false);
                    return;
                }
                streams.open(stream, headers);
            });
        } catch (RejectedExecutionException e) {
            connection.release();
            tunnel.completeExceptionally(e);
        }
        return tunnel;
    }

    private static Http2Headers headers(TunnelRequest request) {
        Http2Headers headers = new DefaultHttp2Headers()
                .method("CONNECT")
                .authority(request.authority().toString());
        if (request.baggage() != null) {
            headers.add("baggage", request.baggage());
        }
        if (request.forwarded() != null) {
            headers.add("forwarded", request.forwarded());
        }
        headers.add("traceparent", request.traceParent().format());
        request.extraHeaders().forEach(headers::add);
        return headers;
    }

    /** Drops an emptied key from the map. Called without holding the key's lock (lock order: map, then key). */
    void forgetIfEmpty(KeyPool pool) {
        pools.computeIfPresent(pool.slot(), (k, current) -> {
            if (current != pool) {
                return current;
            }
            synchronized (pool) {
                if (pool.isEmpty()) {
                    pool.removed = true;
                    return null;
                }
                return pool;
            }
        });
    }

    /** Closes every pooled connection now (open tunnels are reset). Completes when all are closed. */
    public CompletableFuture<Void> closeAsync() {
        closed.set(true);
        revocations.close();
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (Channel channel : live) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            Channels.closeAbruptly(channel).addListener(f -> done.complete(null));
            closing.add(done);
        }
        return CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new));
    }

    /** {@link #closeAsync()}, waiting up to 10 s. Not for event-loop threads. */
    @Override
    public void close() {
        try {
            closeAsync().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("HBONE pool did not close within 10 s", e);
        }
    }
}
