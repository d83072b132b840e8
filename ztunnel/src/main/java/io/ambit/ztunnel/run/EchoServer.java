package io.ambit.ztunnel.run;

import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A demo workload: an HTTP server on the workload's {@code ip:targetPort} that answers every request with who it
 * is and the request line it got. HTTP/1.1 (then the connection closes) and HTTP/2 with prior knowledge (h2c, as
 * {@code curl --http2-prior-knowledge}, nghttp or gRPC send it; a waypoint forwards a client's HTTP/2 as HTTP/2, as
 * Envoy does for a port whose protocol is detected). What {@code curl} shows.
 */
final class EchoServer implements AutoCloseable {
    private final Channel listener;

    private EchoServer(Channel listener) {
        this.listener = listener;
    }

    /** @param who one line naming the workload, e.g. {@code httpbin-1 (default, spiffe://...)} */
    static EchoServer start(Transport transport, EventLoopGroup group, InetSocketAddress bind, String who)
            throws InterruptedException {
        var channel = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        var http1 = new HttpServerCodec();
                        // h2c's upgrade dance is not offered (nobody uses it); prior knowledge is, by its preface
                        var noUpgrade = new HttpServerUpgradeHandler(http1, protocol -> null);
                        ch.pipeline()
                                .addLast(new CleartextHttp2ServerUpgradeHandler(http1, noUpgrade, http2(who)))
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(new Echo(who, true));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return new EchoServer(channel);
    }

    /** The HTTP/2 side: each stream a child channel that reads a whole request and answers it. */
    private static ChannelInitializer<Channel> http2(String who) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline()
                        .addLast(Http2FrameCodecBuilder.forServer().build())
                        .addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                                stream.pipeline()
                                        .addLast(new Http2StreamFrameToHttpObjectCodec(true))
                                        .addLast(new HttpObjectAggregator(64 * 1024))
                                        .addLast(new Echo(who, false));
                            }
                        }));
            }
        };
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }

    private static final class Echo extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final String who;
        /** HTTP/1.1: one request per connection, then close; HTTP/2: the stream ends with the response. */
        private final boolean closeAfter;

        Echo(String who, boolean closeAfter) {
            this.who = who;
            this.closeAfter = closeAfter;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            Channel connection = ctx.channel() instanceof Http2StreamChannel stream ? stream.parent() : ctx.channel();
            var local = (InetSocketAddress) connection.localAddress();
            var remote = (InetSocketAddress) connection.remoteAddress();
            String body = "hello from " + who + " on " + local.getAddress().getHostAddress() + ":" + local.getPort()
                    + "\nrequest: " + request.method() + " " + request.uri() + " " + request.protocolVersion()
                    + "\nfrom: " + remote.getAddress().getHostAddress() + ":" + remote.getPort() + "\n";
            var bytes = body.getBytes(StandardCharsets.UTF_8);
            var response = new DefaultFullHttpResponse(
                    request.protocolVersion(), HttpResponseStatus.OK, Unpooled.wrappedBuffer(bytes));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            if (closeAfter) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(response);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
