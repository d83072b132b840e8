package io.ambit.waypoint.extauthz;

import io.ambit.hbone.relay.InboundHold;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keep-alive HTTP/1.1 connections to one provider. Bounded: at most {@code max} connections, each carrying
 * one check at a time, so at most {@code max} checks are in flight (more fail at once instead of queueing
 * without bound). Idle connections close after a minute. Responses are aggregated up to
 * {@link #MAX_BODY} bytes with headers up to {@link #MAX_HEADERS} (CVE-2024-34364: a provider cannot make
 * the waypoint buffer without bound).
 *
 * <p>Balanced per check, not per connection: each check first picks where it goes ({@link MeshDialer#route},
 * round robin over the provider service's endpoints in the mesh as it is now) and only then takes an idle
 * connection to that endpoint, or opens one. Reusing whichever connection was idle would put every check
 * of a steady stream on one endpoint, and keep using an endpoint that has left the service; idle connections
 * are kept per endpoint, and those of an endpoint no longer chosen just idle out.
 */
final class ConnectionPool implements AutoCloseable {
    static final int MAX_HEADERS = 32 * 1024;
    static final int MAX_BODY = 64 * 1024;

    private final Bootstrap bootstrap;
    private final ProviderResolver resolver;
    private final MeshDialer meshDialer;
    private final String host;
    private final int port;
    private final int max;
    /** Idle connections per destination: the chosen endpoint, or {@link #DIRECT} (outside the mesh). */
    private final ConcurrentHashMap<Object, ConcurrentLinkedDeque<Channel>> idle = new ConcurrentHashMap<>();

    private static final Object DIRECT = new Object();
    private static final AttributeKey<Object> DESTINATION = AttributeKey.valueOf(ConnectionPool.class, "destination");
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean closed;

    ConnectionPool(
            EventLoopGroup group,
            Class<? extends SocketChannel> channelClass,
            ProviderResolver resolver,
            MeshDialer meshDialer,
            String host,
            int port,
            int max,
            int connectTimeoutMillis) {
        this.resolver = resolver;
        this.meshDialer = meshDialer;
        this.host = host;
        this.port = port;
        this.max = max;
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        addHttp(ch);
                    }
                });
    }

    /** The HTTP/1.1 client handlers, on a TCP connection or an HBONE stream alike. */
    private static void addHttp(Channel ch) {
        ch.pipeline()
                .addLast("idle", new IdleStateHandler(0, 0, 60, TimeUnit.SECONDS) {
                    @Override
                    protected void channelIdle(io.netty.channel.ChannelHandlerContext ctx, IdleStateEvent evt) {
                        ctx.close();
                    }
                })
                .addLast("codec", new HttpClientCodec(4096, MAX_HEADERS, 8192))
                .addLast("aggregator", new HttpObjectAggregator(MAX_BODY));
    }

    /** A connection for one exchange; {@code reused} when it served an earlier one (it may have gone stale). */
    record Lease(Channel channel, boolean reused) {}

    /**
     * A connected channel to where this check goes: an idle one to that endpoint, or a new one when fewer
     * than {@code max} are open.
     */
    CompletableFuture<Lease> acquire() {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the provider's client is closed"));
        }
        var route = meshDialer == null ? new MeshDialer.Route.Direct() : meshDialer.route(host, port);
        Object destination = destination(route);
        var waiting = idle.get(destination);
        if (waiting != null) {
            for (Channel ch; (ch = waiting.pollFirst()) != null; ) {
                if (ch.isActive()) {
                    return CompletableFuture.completedFuture(new Lease(ch, true));
                }
            }
        }
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return CompletableFuture.failedFuture(
                    new IllegalStateException(max + " checks to " + host + ":" + port + " are already in flight"));
        }
        var result = new CompletableFuture<Lease>();
        switch (route) {
            case MeshDialer.Route.Mesh m ->
                meshDialer.tunnel(m.endpoint()).whenComplete((tunnel, error) -> {
                    if (error != null) {
                        open.decrementAndGet();
                        result.completeExceptionally(new IllegalStateException(
                                "HBONE to " + m.endpoint().authority() + " of mesh service " + host + ": "
                                        + describe(error),
                                error));
                        return;
                    }
                    tunnel.eventLoop().execute(() -> {
                        addHttp(tunnel);
                        InboundHold.release(tunnel.pipeline()); // the tunnel held what came before the codec
                        tunnel.config().setAutoRead(true);
                        connected(tunnel, destination, result);
                    });
                });
            case MeshDialer.Route.Plain p -> connect(p.address(), destination, result);
            case MeshDialer.Route.Unavailable u -> {
                open.decrementAndGet();
                result.completeExceptionally(new IllegalStateException(u.reason()));
            }
            case MeshDialer.Route.Direct d ->
                resolver.resolve(host, port).whenComplete((address, error) -> {
                    if (error != null) {
                        open.decrementAndGet();
                        result.completeExceptionally(error);
                        return;
                    }
                    connect(address, destination, result);
                });
        }
        return result;
    }

    private void connect(java.net.InetSocketAddress address, Object destination, CompletableFuture<Lease> result) {
        bootstrap.connect(address).addListener(f -> {
            if (!f.isSuccess()) {
                open.decrementAndGet();
                result.completeExceptionally(f.cause());
                return;
            }
            connected(((io.netty.channel.ChannelFuture) f).channel(), destination, result);
        });
    }

    private void connected(Channel c, Object destination, CompletableFuture<Lease> result) {
        c.attr(DESTINATION).set(destination); // where release() files it when idle
        c.closeFuture().addListener(x -> {
            open.decrementAndGet();
            forget(c, destination);
        });
        if (!result.complete(new Lease(c, false)) || closed) {
            c.close();
        }
    }

    /**
     * Drops a closed connection from its destination's idle list, and the list once it is empty: endpoints
     * come and go with the mesh, and the map keeps only destinations that still have idle connections. (A
     * connection released into a list just dropped is not lost: its idle timer closes it.)
     */
    private void forget(Channel c, Object destination) {
        var waiting = idle.get(destination);
        if (waiting != null) {
            waiting.remove(c);
            if (waiting.isEmpty()) {
                idle.remove(destination, waiting);
            }
        }
    }

    /** The key of a route's idle connections: the endpoint (its workload, address and identities). */
    private static Object destination(MeshDialer.Route route) {
        return switch (route) {
            case MeshDialer.Route.Mesh m -> m.endpoint();
            case MeshDialer.Route.Plain p -> p.address();
            case MeshDialer.Route.Direct d -> DIRECT;
            case MeshDialer.Route.Unavailable u -> u;
        };
    }

    private static String describe(Throwable t) {
        Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
    }

    /** Returns a channel after a complete exchange; a channel that cannot be reused is closed. */
    void release(Channel ch, boolean reusable) {
        Object destination = ch.attr(DESTINATION).get();
        if (reusable && !closed && ch.isActive() && destination != null) {
            idle.computeIfAbsent(destination, d -> new ConcurrentLinkedDeque<>())
                    .offerFirst(ch);
            if (closed) {
                ch.close();
            }
        } else {
            ch.close();
        }
    }

    int openConnections() {
        return open.get();
    }

    /** Destinations that have idle connections now. */
    int idleDestinations() {
        return idle.size();
    }

    @Override
    public void close() {
        closed = true;
        for (var waiting : idle.values()) {
            for (Channel ch; (ch = waiting.pollFirst()) != null; ) {
                ch.close();
            }
        }
    }
}
