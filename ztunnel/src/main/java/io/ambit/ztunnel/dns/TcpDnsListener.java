package io.ambit.ztunnel.dns;

import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.TcpDnsQueryDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DNS proxy's TCP listener (RFC 7766: each message behind a two-byte length), where clients retry a
 * truncated UDP answer. Bounded: at most {@code maxConnections} connections (more are closed at once),
 * queries of at most {@value #MAX_QUERY} bytes, at most {@value #MAX_PENDING} unanswered queries per
 * connection (a client pipelining more is closed), and a connection idle for {@code idle} is closed.
 * A message that is no DNS query closes its connection (the framing can no longer be trusted).
 */
final class TcpDnsListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TcpDnsListener.class);
    static final int MAX_QUERY = 4096;
    static final int MAX_PENDING = 16;

    private final Channel channel;

    private TcpDnsListener(Channel channel) {
        this.channel = channel;
    }

    static TcpDnsListener start(
            InetSocketAddress bind,
            Transport transport,
            EventLoopGroup group,
            DnsAnswerer answerer,
            int maxConnections,
            Duration idle)
            throws InterruptedException {
        var open = new AtomicInteger();
        var garbage = new RateLimitedLog(log);
        var channel = new ServerBootstrap()
                .group(group)
                .channelFactory(transport.serverChannelFactory())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (open.incrementAndGet() > maxConnections) {
                            open.decrementAndGet();
                            garbage.warn("DNS TCP connection refused", maxConnections + " already open");
                            ch.close();
                            return;
                        }
                        ch.closeFuture().addListener(f -> open.decrementAndGet());
                        ch.pipeline()
                                .addLast(new IdleStateHandler(0, 0, idle.toMillis(), TimeUnit.MILLISECONDS))
                                .addLast(new TcpDnsQueryDecoder(DefaultDnsRecordDecoder.DEFAULT, MAX_QUERY))
                                .addLast(new Handler(answerer, garbage));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return new TcpDnsListener(channel);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    /** One connection's queries. Not sharable: counts its own pending queries. */
    private static final class Handler extends SimpleChannelInboundHandler<DnsQuery> {
        private final DnsAnswerer answerer;
        private final RateLimitedLog garbage;
        private final AtomicInteger pending = new AtomicInteger();

        Handler(DnsAnswerer answerer, RateLimitedLog garbage) {
            this.answerer = answerer;
            this.garbage = garbage;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DnsQuery query) {
            if (pending.incrementAndGet() > MAX_PENDING) {
                garbage.warn("DNS TCP connection closed", "more than " + MAX_PENDING + " queries unanswered");
                ctx.close();
                return;
            }
            var q = Question.of(query);
            var echo = q != null ? q : Question.headerOnly(query);
            answerer.answer(q, "tcp").thenAccept(reply -> {
                pending.decrementAndGet();
                if (!ctx.channel().isActive()) {
                    return;
                }
                ByteBuf msg;
                try {
                    msg = DnsWire.encode(ctx.alloc(), echo, reply, DnsWire.TCP_LIMIT);
                } catch (RuntimeException e) {
                    garbage.warn("DNS answer not written", e.toString());
                    ctx.close();
                    return;
                }
                var length = ctx.alloc().buffer(2).writeShort(msg.readableBytes());
                ctx.write(length, ctx.voidPromise());
                ctx.writeAndFlush(msg, ctx.voidPromise());
            });
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            garbage.warn("DNS TCP connection closed on bad input", cause.getCause() != null ? cause.getCause() : cause);
            ctx.close();
        }
    }
}
