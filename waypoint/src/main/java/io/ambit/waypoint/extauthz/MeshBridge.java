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
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The way grpc-java reaches a gRPC provider that may live in the mesh: grpc-java dials an in-process
 * address (Netty's {@link LocalAddress}: no socket, so no other process can borrow the waypoint's identity
 * through it), and each connection is routed when it opens ({@link MeshDialer#route}): relayed over HBONE to
 * an endpoint of the provider's mesh service, or over TCP to the provider outside the mesh. One bridge per
 * provider client; bytes are relayed by hbone's {@link Relay}, with its back-pressure.
 */
final class MeshBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MeshBridge.class);
    private static final int HOLD_BYTES = 64 * 1024;

    private final Channel server;
    private final LocalAddress address;
    private final EventLoopGroup local;

    private MeshBridge(Channel server, LocalAddress address, EventLoopGroup local) {
        this.server = server;
        this.address = address;
        this.local = local;
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
        var address = new LocalAddress(MeshBridge.class);
        // In-process channels need a loop of their own: the waypoint's (epoll, io_uring) cannot carry them.
        var local = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("ambit-extauthz-bridge", true), LocalIoHandler.newFactory());
        Channel server = new ServerBootstrap()
                .group(local)
                .channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel client) {
                        // grpc-java writes its preface at once: hold it until the other side is there.
                        client.pipeline().addLast(InboundHold.NAME, new InboundHold(HOLD_BYTES));
                        connect(tcp, resolver, dialer, host, port).whenComplete((other, error) -> {
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
                .bind(address)
                .syncUninterruptibly()
                .channel();
        return new MeshBridge(server, address, local);
    }

    /** The provider's side of a new connection: an HBONE stream or a TCP connection. */
    private static CompletableFuture<Channel> connect(
            Bootstrap tcp, ProviderResolver resolver, MeshDialer dialer, String host, int port) {
        return switch (dialer.route(host, port)) {
            case MeshDialer.Route.Mesh m -> dialer.tunnel(m.endpoint());
            case MeshDialer.Route.Plain p -> tcp(tcp, p.address());
            case MeshDialer.Route.Unavailable u ->
                CompletableFuture.failedFuture(new IllegalStateException(u.reason()));
            case MeshDialer.Route.Direct d ->
                resolver.resolve(host, port).toCompletableFuture().thenCompose(a -> tcp(tcp, a));
        };
    }

    private static CompletableFuture<Channel> tcp(Bootstrap tcp, InetSocketAddress address) {
        var out = new CompletableFuture<Channel>();
        tcp.connect(address).addListener(f -> {
            if (f.isSuccess()) {
                out.complete(((ChannelFuture) f).channel());
            } else {
                out.completeExceptionally(f.cause());
            }
        });
        return out;
    }

    /** Where grpc-java connects ({@code channelType(LocalChannel.class)}). */
    LocalAddress address() {
        return address;
    }

    /** The loop grpc-java's in-process channels must use. */
    EventLoopGroup loops() {
        return local;
    }

    @Override
    public void close() {
        server.close();
        local.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }
}
