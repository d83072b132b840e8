package io.ambit.waypoint.telemetry;

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
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A small plain-HTTP server for the waypoint's own endpoints ({@code /metrics} and
 * {@code /stats/prometheus} on 15020, {@code /healthz/ready} on 15021). GET only; bodies refused;
 * requests bounded to 8 KiB; slow clients dropped after 10 s. Rendering (a Prometheus scrape) runs on
 * the event loop that serves it, which the data path shares: scrapes are rare and cheap.
 */
public final class AdminServer implements AutoCloseable {
    /** One endpoint's answer. */
    public record Reply(int status, String contentType, String body) {
        public static Reply text(int status, String body) {
            return new Reply(status, "text/plain; charset=utf-8", body);
        }
    }

    private final Channel listener;

    private AdminServer(Channel listener) {
        this.listener = listener;
    }

    /** Binds {@code bind} and serves {@code routes} (path to answer). */
    public static AdminServer start(
            Transport transport, EventLoopGroup group, InetSocketAddress bind, Map<String, Supplier<Reply>> routes)
            throws InterruptedException {
        Map<String, Supplier<Reply>> table = Map.copyOf(routes);
        Channel ch = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline()
                                .addLast(new ReadTimeoutHandler(10))
                                .addLast(new HttpServerCodec(4096, 8192, 8192))
                                .addLast(new HttpObjectAggregator(0))
                                .addLast(new Handler(table));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return new AdminServer(ch);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Map<String, Supplier<Reply>> routes;

        Handler(Map<String, Supplier<Reply>> routes) {
            this.routes = routes;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            Reply reply;
            if (!request.decoderResult().isSuccess()) {
                reply = Reply.text(400, "bad request\n");
            } else {
                String path = request.uri();
                int q = path.indexOf('?');
                Supplier<Reply> route = routes.get(q >= 0 ? path.substring(0, q) : path);
                if (route == null) {
                    reply = Reply.text(404, "not found; try " + String.join(", ", routes.keySet()) + "\n");
                } else if (!request.method().name().equals("GET")
                        && !request.method().name().equals("HEAD")) {
                    reply = Reply.text(405, "GET only\n");
                } else {
                    reply = route.get();
                }
            }
            byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
            var response = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(body));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            boolean keepAlive =
                    HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
            var written = ctx.writeAndFlush(response);
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
