package io.ambit.waypoint.testing;

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
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The app behind an endpoint: a real HTTP/1.1 and HTTP/2 (prior knowledge) server that names itself in
 * every answer and records what it received. {@code /status/N} answers N, {@code /bytes/N} sends N bytes,
 * {@code /echo} returns the body; anything else describes the request (method, path, headers).
 */
public final class EchoBackend implements AutoCloseable {
    /** One request as the app saw it. */
    public record Seen(
            String protocol, String method, String uri, List<Map.Entry<String, String>> headers, String body) {
        public String header(String name) {
            return headers.stream()
                    .filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(Map.Entry::getValue)
                    .findFirst()
                    .orElse(null);
        }
    }

    public final String name;
    public final LinkedBlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    private final Channel listener;

    private EchoBackend(String name, Channel listener) {
        this.name = name;
        this.listener = listener;
    }

    public static EchoBackend start(
            String name, io.ambit.hbone.transport.Transport transport, EventLoopGroup group, InetSocketAddress bind)
            throws InterruptedException {
        EchoBackend[] self = new EchoBackend[1];
        Channel ch = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline()
                                .addLast(new ProtocolDetector(
                                        p -> p.addLast(new HttpServerCodec())
                                                .addLast(new HttpObjectAggregator(16 * 1024 * 1024))
                                                .addLast(new Responder(self[0], "HTTP/1.1")),
                                        p -> p.addLast(Http2FrameCodecBuilder.forServer()
                                                        .build())
                                                .addLast(new Http2MultiplexHandler(
                                                        new ChannelInitializer<Http2StreamChannel>() {
                                                            @Override
                                                            protected void initChannel(Http2StreamChannel s) {
                                                                s.pipeline()
                                                                        .addLast(new Http2StreamFrameToHttpObjectCodec(
                                                                                true))
                                                                        .addLast(new HttpObjectAggregator(
                                                                                16 * 1024 * 1024))
                                                                        .addLast(new Responder(self[0], "HTTP/2"));
                                                            }
                                                        }))));
                    }
                })
                .bind(bind)
                .sync()
                .channel();
        self[0] = new EchoBackend(name, ch);
        return self[0];
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }

    @ChannelHandler.Sharable
    private static final class Responder extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final EchoBackend backend;
        private final String protocol;

        Responder(EchoBackend backend, String protocol) {
            this.backend = backend;
            this.protocol = protocol;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String body = req.content().toString(StandardCharsets.UTF_8);
            backend.seen.add(new Seen(
                    protocol,
                    req.method().name(),
                    req.uri(),
                    List.copyOf(req.headers().entries()),
                    body));
            String uri = req.uri();
            HttpResponseStatus status = HttpResponseStatus.OK;
            ByteBuf out;
            if (uri.startsWith("/status/")) {
                status = HttpResponseStatus.valueOf(Integer.parseInt(uri.substring("/status/".length())));
                out = Unpooled.copiedBuffer(
                        "status " + status.code() + " from " + backend.name + "\n", StandardCharsets.UTF_8);
            } else if (uri.startsWith("/bytes/")) {
                int n = Integer.parseInt(uri.substring("/bytes/".length()));
                out = Unpooled.buffer(n);
                for (int i = 0; i < n; i++) {
                    out.writeByte('a' + i % 26);
                }
            } else if (uri.startsWith("/echo")) {
                out = req.content().retainedDuplicate();
            } else {
                StringBuilder b = new StringBuilder()
                        .append("served-by=")
                        .append(backend.name)
                        .append('\n')
                        .append("protocol=")
                        .append(protocol)
                        .append('\n')
                        .append("method=")
                        .append(req.method())
                        .append('\n')
                        .append("uri=")
                        .append(uri)
                        .append('\n');
                req.headers().forEach(e -> b.append("header ")
                        .append(e.getKey().toLowerCase())
                        .append(": ")
                        .append(e.getValue())
                        .append('\n'));
                out = Unpooled.copiedBuffer(b, StandardCharsets.UTF_8);
            }
            var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, out);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, out.readableBytes())
                    .set("x-served-by", backend.name);
            if (protocol.equals("HTTP/2")) {
                response.headers().remove(HttpHeaderNames.CONTENT_LENGTH); // the HTTP/2 codec frames it
                response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.readableBytes());
            } else if (!HttpUtil.isKeepAlive(req)) {
                response.headers().set(HttpHeaderNames.CONNECTION, "close");
            }
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset from the waypoint ending an exchange is normal here
        }
    }
}
