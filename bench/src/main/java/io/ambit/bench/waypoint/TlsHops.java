package io.ambit.bench.waypoint;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * The client's and the node's hops of the benchmark in "TLS" mode: the same kind of work as the ztunnel
 * hops in front of and behind the waypoint (a TCP connection carried over mutual TLS with SPIFFE
 * certificates from the same CA), without the HTTP/2 CONNECT layer, so a proxy that speaks plain mTLS
 * (HAProxy's {@code ssl crt ... ca-file ... verify required}) can sit between them. One TLS connection per
 * TCP connection (no multiplexing); both halves of each relay live on one event loop.
 *
 * <ul>
 *   <li>{@link #client}: accepts TCP, dials the target with TLS presenting {@code source} and accepting only
 *       a server with {@code server}'s SPIFFE id, then relays;
 *   <li>{@link #node}: accepts TLS (client certificate required, chained to the mesh's roots), dials the
 *       target over TCP, then relays.
 * </ul>
 */
final class TlsHops {
    private static final int HOLD_BYTES = 64 * 1024;

    private TlsHops() {}

    static Channel client(
            Transport transport,
            EventLoopGroup group,
            ClientTls tls,
            Supplier<WorkloadCertificate> source,
            SpiffeId server,
            InetSocketAddress listen,
            InetSocketAddress target)
            throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.AUTO_READ, false) // nothing is read until the TLS hop is up
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel app) {
                        app.pipeline().addLast(InboundHold.NAME, new InboundHold(HOLD_BYTES));
                        dialTls(transport, tls, source.get(), server, app, target);
                    }
                })
                .bind(listen)
                .sync()
                .channel();
    }

    private static void dialTls(
            Transport transport,
            ClientTls tls,
            WorkloadCertificate cert,
            SpiffeId server,
            Channel app,
            InetSocketAddress target) {
        SslHandler[] ssl = new SslHandler[1];
        ChannelFuture connected = new Bootstrap()
                .group(app.eventLoop())
                .channelFactory(transport.socketChannelFactory())
                .option(ChannelOption.TCP_NODELAY, true)
                // Auto-read stays on: the handshake needs reads; the hold keeps (bounded) what comes after it.
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) throws SSLException {
                        ssl[0] = tls.newHandler(ch.alloc(), cert, Set.of(server));
                        ch.pipeline().addLast("tls", ssl[0]).addLast(InboundHold.NAME, new InboundHold(HOLD_BYTES));
                    }
                })
                .connect(target);
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                Relay.reset(app);
                return;
            }
            Channel ch = connected.channel();
            ssl[0].handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    Relay.start(app, ch);
                } else {
                    ch.close();
                    Relay.reset(app);
                }
            });
        });
    }

    static Channel node(
            Transport transport,
            EventLoopGroup group,
            ServerTls tls,
            InetSocketAddress listen,
            InetSocketAddress target)
            throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Auto-read stays on: the handshake needs reads; the hold keeps (bounded) what comes after it.
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel peer) throws SSLException {
                        SslHandler ssl = tls.newHandler(peer.alloc());
                        peer.pipeline().addLast("tls", ssl).addLast(InboundHold.NAME, new InboundHold(HOLD_BYTES));
                        ssl.handshakeFuture().addListener(h -> {
                            if (h.isSuccess()) {
                                dialApp(transport, peer, target);
                            } else {
                                peer.close();
                            }
                        });
                    }
                })
                .bind(listen)
                .sync()
                .channel();
    }

    private static void dialApp(Transport transport, Channel peer, InetSocketAddress target) {
        ChannelFuture connected = new Bootstrap()
                .group(peer.eventLoop())
                .channelFactory(transport.socketChannelFactory())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new InboundHold(HOLD_BYTES))
                .connect(target);
        connected.addListener(f -> {
            if (f.isSuccess()) {
                Relay.start(peer, connected.channel());
            } else {
                peer.close();
            }
        });
    }
}
