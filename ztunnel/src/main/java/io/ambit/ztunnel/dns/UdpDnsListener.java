package io.ambit.ztunnel.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DNS proxy's UDP listener: each datagram is decoded with Netty's DNS codec, answered
 * ({@link DnsAnswerer}) and the answer sent back to its sender, truncated with TC set when it is larger
 * than the client takes over UDP (512 bytes, or its EDNS size), so that the client asks again over TCP.
 * A datagram that is no DNS query is dropped (logged at most once per 10 s); one that decodes but has no
 * single question is answered FORMERR. Datagrams are read into buffers of Netty's fixed 2 KiB.
 */
final class UdpDnsListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UdpDnsListener.class);

    private final Channel channel;

    private UdpDnsListener(Channel channel) {
        this.channel = channel;
    }

    static UdpDnsListener start(
            InetSocketAddress bind,
            ChannelFactory<? extends DatagramChannel> factory,
            EventLoopGroup group,
            DnsAnswerer answerer)
            throws InterruptedException {
        var channel = new Bootstrap()
                .group(group)
                .channelFactory(factory)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(handlers(answerer));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return new UdpDnsListener(channel);
    }

    /** A listener channel's handlers, in order: decode the datagram, answer it. */
    static ChannelHandler[] handlers(DnsAnswerer answerer) {
        return new ChannelHandler[] {new DatagramDnsQueryDecoder(), new Handler(answerer)};
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        private final DnsAnswerer answerer;
        private final RateLimitedLog garbage = new RateLimitedLog(log);

        Handler(DnsAnswerer answerer) {
            this.answerer = answerer;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            var sender = query.sender();
            var q = Question.of(query); // copied out: the query is released when this returns
            var echo = q != null ? q : Question.headerOnly(query);
            answerer.answer(q, "udp").thenAccept(reply -> {
                if (!ctx.channel().isActive() || !ctx.channel().isWritable()) {
                    return; // UDP: a reply that cannot be queued is dropped, the client retries
                }
                try {
                    var buf = DnsWire.encode(ctx.alloc(), echo, reply, echo.udpLimit());
                    ctx.writeAndFlush(new DatagramPacket(buf, sender), ctx.voidPromise());
                } catch (RuntimeException e) {
                    garbage.warn("DNS answer to " + sender + " not written", e.toString());
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // a datagram that is no DNS query: dropped; the listener keeps serving
            garbage.warn("DNS datagram dropped", cause.getCause() != null ? cause.getCause() : cause);
        }
    }
}
