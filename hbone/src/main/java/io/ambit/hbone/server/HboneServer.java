package io.ambit.hbone.server;

import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.cert.Subscription;
import io.ambit.hbone.metrics.HboneMetrics;
import io.ambit.hbone.tls.RevokedPeers;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.transport.Channels;
import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HBONE listener: mutual TLS → HTTP/2 → CONNECT streams, each decided by a {@link ConnectHandler} and
 * then relayed. The event-loop group belongs to the caller; {@link #close()} and {@link #drain(Duration)}
 * end this server's connections, not the group.
 */
public final class HboneServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HboneServer.class);

    private final Channel listener;
    private final ChannelGroup connections;
    private final ServerCounters counters;
    private final Subscription revocations;

    private HboneServer(Channel listener, ChannelGroup connections, ServerCounters counters, Subscription revocations) {
        this.listener = listener;
        this.connections = connections;
        this.counters = counters;
        this.revocations = revocations;
    }

    /**
     * Binds and starts serving, without metrics: see
     * {@link #start(HboneServerConfig, ServerTls, ConnectHandler, Transport, EventLoopGroup, HboneMetrics)}.
     */
    public static CompletableFuture<HboneServer> start(
            HboneServerConfig config,
            ServerTls tls,
            ConnectHandler handler,
            Transport transport,
            EventLoopGroup group) {
        return start(config, tls, handler, transport, group, HboneMetrics.none());
    }

    /**
     * Binds and starts serving. The returned future completes once the listener is bound (or failed). When
     * {@code tls} has a {@link RevocationChecker}, each CRL update closes the connections whose client it
     * revokes.
     *
     * @param tls the identity presented to clients and the verification of theirs
     * @param metrics where handshakes, open connections and streams are counted ({@code reporter=destination})
     */
    public static CompletableFuture<HboneServer> start(
            HboneServerConfig config,
            ServerTls tls,
            ConnectHandler handler,
            Transport transport,
            EventLoopGroup group,
            HboneMetrics metrics) {
        HboneMetrics.Side meters = metrics.destination();
        ServerCounters counters = new ServerCounters();
        ChannelGroup connections = new DefaultChannelGroup("hbone-connections", GlobalEventExecutor.INSTANCE);
        // keepalive with ztunnel's timers (TcpKeepalive), not the kernel's 2 hours
        ServerBootstrap bootstrap = transport
                .configureChildren(new ServerBootstrap())
                .group(group)
                .channelFactory(transport.serverChannelFactory())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        connections.add(channel);
                        counters.connectionsOpen.increment();
                        channel.closeFuture().addListener(f -> counters.connectionsOpen.decrement());
                        SslHandler ssl;
                        try {
                            ssl = tls.newHandler(channel.alloc());
                        } catch (SSLException e) {
                            counters.handshakeFailures.increment();
                            meters.handshake(null, false);
                            log.debug("{} refused before the handshake: {}", channel, e.getMessage());
                            channel.close();
                            return;
                        }
                        channel.pipeline()
                                .addLast("tls", ssl)
                                .addLast(
                                        "hbone-setup",
                                        new ServerConnectionSetup(tls, config, handler, counters, meters));
                    }
                });
        Subscription revocations = RevokedPeers.closeOnRevocation(tls.revocations(), connections, meters);
        CompletableFuture<HboneServer> started = new CompletableFuture<>();
        ChannelFuture bound = bootstrap.bind(config.bind());
        bound.addListener(f -> {
            if (f.isSuccess()) {
                started.complete(new HboneServer(bound.channel(), connections, counters, revocations));
            } else {
                revocations.close();
                started.completeExceptionally(f.cause());
            }
        });
        return started;
    }

    /** The address actually bound (with the real port when 0 was asked for). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) listener.localAddress();
    }

    public ServerStats stats() {
        return counters.snapshot();
    }

    /**
     * Stops accepting, then sends GOAWAY on every connection and lets its open streams finish; a connection
     * still busy after {@code deadline} is closed anyway (its relays are reset). Completes when all are
     * closed.
     */
    public CompletableFuture<Void> drain(Duration deadline) {
        revocations.close();
        CompletableFuture<Void> done = new CompletableFuture<>();
        listener.close().addListener(l -> {
            List<CompletableFuture<Void>> closing = new ArrayList<>();
            for (Channel connection : connections) {
                CompletableFuture<Void> closed = new CompletableFuture<>();
                connection.closeFuture().addListener(f -> closed.complete(null));
                closing.add(closed);
                connection.eventLoop().execute(() -> {
                    Http2FrameCodec codec = connection.pipeline().get(Http2FrameCodec.class);
                    if (codec != null) {
                        // The codec's close sends GOAWAY and waits for the streams, up to this timeout.
                        codec.gracefulShutdownTimeoutMillis(deadline.toMillis());
                        connection.close();
                    } else {
                        Channels.closeAbruptly(connection); // still in the handshake
                    }
                });
            }
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
                    .whenComplete((v, e) -> done.complete(null));
        });
        return done;
    }

    /** Stops accepting and closes every connection now, without GOAWAY. Completes when all are closed. */
    public CompletableFuture<Void> closeAsync() {
        revocations.close();
        CompletableFuture<Void> done = new CompletableFuture<>();
        listener.close().addListener(l -> {
            List<CompletableFuture<Void>> closing = new ArrayList<>();
            for (Channel connection : connections) {
                CompletableFuture<Void> closed = new CompletableFuture<>();
                Channels.closeAbruptly(connection).addListener(f -> closed.complete(null));
                closing.add(closed);
            }
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
                    .whenComplete((v, e) -> done.complete(null));
        });
        return done;
    }

    /** {@link #closeAsync()}, waiting up to 10 s. Not for event-loop threads. */
    @Override
    public void close() {
        try {
            closeAsync().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("HBONE server did not close within 10 s", e);
        }
    }
}
