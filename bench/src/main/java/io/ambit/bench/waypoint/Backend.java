package io.ambit.bench.waypoint;

import io.ambit.hbone.transport.Transport;
import io.ambit.waypoint.ingress.ProtocolDetector;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import java.net.InetSocketAddress;

/**
 * The app of the benchmark: answers every request with a fixed 64-byte body, over HTTP/1.1 or HTTP/2
 * with prior knowledge on the same port (as the waypoint forwards in the client's protocol).
 */
final class Backend {
    private static final ByteBuf BODY = Unpooled.unreleasableBuffer(Unpooled.directBuffer(64)
                    .writeBytes("0123456789abcdef0123456789abcdef0123456789abcdef012345678901234\n".getBytes()))
            .asReadOnly();

    private Backend() {}

    static Channel start(Transport transport, EventLoopGroup group, InetSocketAddress bind)
            throws InterruptedException {
        Responder responder = new Responder();
        return new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline()
                                .addLast(new ProtocolDetector(
                                        p -> p.addLast(new HttpServerCodec())
                                                .addLast(new HttpObjectAggregator(1024 * 1024))
                                                .addLast(responder),
                                        p -> p.addLast(Http2FrameCodecBuilder.forServer()
                                                        .build())
                                                .addLast(new Http2MultiplexHandler(
                                                        new ChannelInitializer<Http2StreamChannel>() {
                                                            @Override
                                                            protected void initChannel(Http2StreamChannel s) {
                                                                s.pipeline()
                                                                        .addLast(new Http2StreamFrameToHttpObjectCodec(
                                                                                true))
                                                                        .addLast(new HttpObjectAggregator(1024 * 1024))
                                                                        .addLast(responder);
                                                            }
                                                        }))));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
    }

    @ChannelHandler.Sharable
    private static final class Responder extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, BODY.duplicate());
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.readableBytes());
            if (!HttpUtil.isKeepAlive(req) && !req.headers().contains("x-http2-stream-id")) {
                response.headers().set(HttpHeaderNames.CONNECTION, "close");
            }
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
