package io.ambit.waypoint.extauthz;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The way grpc-java reaches a gRPC provider that may live in the mesh: grpc-java dials in-process addresses
 * (Netty's {@link LocalAddress}: no socket, so no other process can borrow the waypoint's identity through
 * them), and the bridge connects each such connection to the provider:
 *
 * <ul>
 *   <li>{@link #address()}: routed when it opens ({@link MeshDialer#route}), for a provider outside the
 *       mesh (TCP to what DNS says);
 *   <li>{@link #addresses}: one address per endpoint of the provider's mesh service, each relayed over HBONE
 *       to that endpoint (or TCP, for an endpoint outside the mesh), so that grpc-java's round_robin can
 *       spread the checks over the endpoints as Envoy balances them over the provider's cluster.
 * </ul>
 *
 * One bridge per provider client; bytes are relayed by hbone's {@link Relay}, with its back-pressure.
 */
final class MeshBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MeshBridge.class);
    private static final int HOLD_BYTES = 64 * 1024;

    private final Bootstrap tcp;
    private final ProviderResolver resolver;
    private final MeshDialer dialer;
    private final String host;
    private final int port;
    private final EventLoopGroup local;
    private final Channel server;
    private final LocalAddress address;
    private Map<MeshDialer.Route, Bound> endpoints = new LinkedHashMap<>(); // guarded by this
    private boolean closed; // guarded by this

    /** The in-process server of one endpoint. */
    private record Bound(LocalAddress address, Channel server) {}

    private MeshBridge(
            Bootstrap tcp, ProviderResolver resolver, MeshDialer dialer, String host, int port, EventLoopGroup local) {
        this.tcp = tcp;
        this.resolver = resolver;
        this.dialer = dialer;
        this.host = host;
        this.port = port;
        this.local = local;
        this.address = new LocalAddress(MeshBridge.class);
        this.server = bind(address, () -> connect(dialer.route(host, port)));
    }

    /** Starts a bridge to {@code host:port} (the provider's {@code service} and {@code port}). */
    static MeshBridge start(
            EventLoopGroup group,
            Class<? extends SocketChannel> channelClass,
            ProviderResolver resolver,
            MeshDialer dialer,
            String host,
            int port,
            int connectTimeoutMillis) {
        var tcp = new Bootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(InboundHold.NAME, new InboundHold(HOLD_BYTES));
                    }
                });
        // In-process channels need a loop of their own: the waypoint's (epoll, io_uring) cannot carry them.
        var local = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("ambit-extauthz-bridge", true), LocalIoHandler.newFactory());
        return new MeshBridge(tcp, resolver, dialer, host, port, local);
    }

    /** Binds an in-process server whose every connection is relayed to what {@code connect} opens. */
    private Channel bind(LocalAddress at, Supplier<CompletableFuture<Channel>> connect) {
        return new ServerBootstrap()
                .group(local)
                .channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel client) {
                        // grpc-java writes its preface at once: hold it until the other side is there.
                        client.pipeline().addLast(InboundHold.NAME, new InboundHold(HOLD_BYTES));
                        connect.get().whenComplete((other, error) -> {
                            if (error != null) {
                                log.debug(
                                        "ext_authz gRPC provider {}:{} not reached: {}", host, port, error.toString());
                                client.close(); // grpc-java sees UNAVAILABLE: an error verdict
                            } else if (!client.isActive()) {
                                other.close();
                            } else {
                                Relay.start(client, other);
                            }
                        });
                    }
                })
                .bind(at)
                .syncUninterruptibly()
                .channel();
    }

    /**
     * The in-process addresses of {@code routes} (each a {@link MeshDialer.Route.Mesh} or
     * {@link MeshDialer.Route.Plain}), in order: a server is bound for each new one, and the servers of
     * endpoints no longer listed are closed (grpc-java drops their connections with them). Binding waits on
     * the bridge's own loop: call it off the waypoint's event loops.
     */
    synchronized List<LocalAddress> addresses(List<MeshDialer.Route> routes) {
        if (closed) {
            throw new IllegalStateException("the ext_authz bridge to " + host + ":" + port + " is closed");
        }
        var next = new LinkedHashMap<MeshDialer.Route, Bound>();
        for (MeshDialer.Route r : routes) {
            Bound b = endpoints.remove(r);
            if (b == null) {
                var at = new LocalAddress(MeshBridge.class);
                b = new Bound(at, bind(at, () -> connect(r)));
            }
            next.put(r, b);
        }
        for (Bound gone : endpoints.values()) {
            gone.server().close();
        }
        endpoints = next;
        var out = new ArrayList<LocalAddress>(next.size());
        for (Bound b : next.values()) {
            out.add(b.address());
        }
        return out;
    }

    /** The provider's side of a new connection: an HBONE stream or a TCP connection. */
    private CompletableFuture<Channel> connect(MeshDialer.Route route) {
        return switch (route) {
            case MeshDialer.Route.Mesh m -> dialer.tunnel(m.endpoint());
            case MeshDialer.Route.Plain p -> tcp(p.address());
            case MeshDialer.Route.Unavailable u ->
                CompletableFuture.failedFuture(new IllegalStateException(u.reason()));
            case MeshDialer.Route.Direct d ->
                resolver.resolve(host, port).toCompletableFuture().thenCompose(this::tcp);
        };
    }

    private CompletableFuture<Channel> tcp(InetSocketAddress to) {
        var out = new CompletableFuture<Channel>();
        tcp.connect(to).addListener(f -> {
            if (f.isSuccess()) {
                out.complete(((ChannelFuture) f).channel());
            } else {
                out.completeExceptionally(f.cause());
            }
        });
        return out;
    }

    /** Where grpc-java connects for a provider routed per connection ({@code channelType(LocalChannel.class)}). */
    LocalAddress address() {
        return address;
    }

    /** The loop grpc-java's in-process channels must use. */
    EventLoopGroup loops() {
        return local;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            for (Bound b : endpoints.values()) {
                b.server().close();
            }
            endpoints = Map.of();
        }
        server.close();
        local.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }
}
