package io.ambit.ztunnel.admin;

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
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A small HTTP/1.1 server for the node's plain endpoints (metrics {@code :15020}, readiness {@code :15021},
 * admin {@code :15000}): one path, one {@link Route}. Routes run on the event loop, so each must answer
 * from memory (a registry scrape, a snapshot) and hand anything slow to another thread.
 */
public final class HttpEndpoint implements AutoCloseable {
    /** An answer. */
    public record Reply(int status, String contentType, String body) {
        public static Reply text(int status, String body) {
            return new Reply(status, "text/plain; charset=utf-8", body);
        }

        public static Reply json(String body) {
            return new Reply(200, "application/json", body);
        }
    }

    /** One path's handler; {@code method} is {@code GET}, {@code POST}, ...; never blocks. */
    @FunctionalInterface
    public interface Route {
        Reply handle(String method, Map<String, List<String>> query);
    }

    private final Channel listener;

    private HttpEndpoint(Channel listener) {
        this.listener = listener;
    }

    /** Binds {@code bind} and serves {@code routes} (path → route); other paths get 404. */
    public static HttpEndpoint start(
            Transport transport, EventLoopGroup group, InetSocketAddress bind, Map<String, Route> routes)
            throws InterruptedException {
        var router = new Router(Map.copyOf(routes));
        var channel = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(16 * 1024))
                                .addLast(router);
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        return new HttpEndpoint(channel);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }

    @io.netty.channel.ChannelHandler.Sharable
    private static final class Router extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Map<String, Route> routes;

        Router(Map<String, Route> routes) {
            this.routes = routes;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (request.decoderResult().isFailure()) {
                // Netty hands over a placeholder ("/bad-request") for a request it could not read: answer
                // what was wrong instead of routing the placeholder, and end the connection (its framing
                // cannot be trusted any more)
                var cause = request.decoderResult().cause();
                answer(
                        ctx,
                        request,
                        Reply.text(
                                400,
                                "malformed request: " + (cause == null ? "unreadable" : cause.getMessage()) + "\n"),
                        false);
                return;
            }
            String path;
            Map<String, List<String>> query;
            try {
                var uri = new QueryStringDecoder(request.uri());
                path = uri.path();
                query = uri.parameters();
            } catch (IllegalArgumentException e) {
                // a bad percent-escape: the client's mistake, said as such (not a 500, not a silent close)
                answer(
                        ctx,
                        request,
                        Reply.text(
                                400,
                                "bad request target: " + e.getMessage()
                                        + " (expected: a path and query with valid %XX escapes)\n"),
                        HttpUtil.isKeepAlive(request));
                return;
            }
            Route route = routes.get(path);
            Reply reply;
            if (route == null) {
                reply = Reply.text(404, "no such path: " + path + "\n");
            } else {
                try {
                    reply = route.handle(request.method().name(), query);
                } catch (RuntimeException e) {
                    reply = Reply.text(500, "error: " + e.getMessage() + "\n");
                }
            }
            answer(ctx, request, reply, HttpUtil.isKeepAlive(request));
        }

        private static void answer(ChannelHandlerContext ctx, FullHttpRequest request, Reply reply, boolean keepAlive) {
            byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
            var response = new DefaultFullHttpResponse(
                    request.protocolVersion(),
                    HttpResponseStatus.valueOf(reply.status()),
                    Unpooled.wrappedBuffer(bytes));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            HttpUtil.setKeepAlive(response, keepAlive);
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
