package io.ambit.hbone.testsupport;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** A TCP→TCP passthrough proxy (ztunnel's path for destinations outside the mesh), relaying each connection. */
public final class Passthrough implements AutoCloseable {
    /** One relayed connection. */
    public record Pair(Channel downstream, Channel upstream, Relay relay) {}

    private final Channel listener;
    public final BlockingQueue<Pair> pairs = new LinkedBlockingQueue<>();

    private Passthrough(TestLoops loops, InetSocketAddress target) throws Exception {
        listener = new ServerBootstrap()
                .group(loops.group)
                .channel(loops.transport.serverChannelClass())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel downstream) {
                        downstream.pipeline().addLast(InboundHold.NAME, new InboundHold(64 * 1024));
                        ChannelFuture connected = new Bootstrap()
                                .group(downstream.eventLoop())
                                .channel(loops.transport.socketChannelClass())
                                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                                .option(ChannelOption.AUTO_READ, false)
                                .handler(new InboundHold(64 * 1024))
                                .connect(target);
                        connected.addListener(f -> {
                            if (f.isSuccess()) {
                                Channel upstream = connected.channel();
                                pairs.add(new Pair(downstream, upstream, Relay.start(downstream, upstream)));
                            } else {
                                Relay.reset(downstream);
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .sync()
                .channel();
    }

    public static Passthrough start(TestLoops loops, InetSocketAddress target) throws Exception {
        return new Passthrough(loops, target);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }
}
