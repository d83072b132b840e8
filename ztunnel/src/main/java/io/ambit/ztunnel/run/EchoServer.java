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
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A demo workload: an HTTP/1.1 server on the workload's {@code ip:targetPort} that answers every request
 * with who it is and the request line it got, then closes the connection. What {@code curl} shows.
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
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(new Echo(who));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return new EchoServer(channel);
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

        Echo(String who) {
            this.who = who;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            var local = (InetSocketAddress) ctx.channel().localAddress();
            var remote = (InetSocketAddress) ctx.channel().remoteAddress();
            String body = "hello from " + who + " on " + local.getAddress().getHostAddress() + ":" + local.getPort()
                    + "\nrequest: " + request.method() + " " + request.uri() + " " + request.protocolVersion()
                    + "\nfrom: " + remote.getAddress().getHostAddress() + ":" + remote.getPort() + "\n";
            var bytes = body.getBytes(StandardCharsets.UTF_8);
            var response = new DefaultFullHttpResponse(
                    request.protocolVersion(), HttpResponseStatus.OK, Unpooled.wrappedBuffer(bytes));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
