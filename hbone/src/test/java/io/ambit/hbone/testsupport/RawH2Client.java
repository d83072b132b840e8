package io.ambit.hbone.testsupport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * An HTTP/2 client that writes raw frames over TLS and records what comes back, for the abuse cases a
 * proper codec will not produce: rapid reset, CONTINUATION floods, too many streams, early data, ignored
 * PINGs. It acknowledges SETTINGS but never PINGs, and ignores flow control.
 */
public final class RawH2Client implements AutoCloseable {
    /** A frame the server sent. */
    public sealed interface Event {}

    public record Headers(int streamId, Http2Headers headers, boolean endStream) implements Event {}

    public record Reset(int streamId, long errorCode) implements Event {}

    public record GoAway(int lastStreamId, long errorCode) implements Event {}

    public record Data(int streamId, int bytes, boolean endStream) implements Event {}

    public volatile Channel channel;
    public final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    public final CompletableFuture<GoAway> goAway = new CompletableFuture<>();
    public final ConcurrentHashMap<Integer, ByteArrayOutputStream> data = new ConcurrentHashMap<>();
    private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
    private volatile ChannelHandlerContext ctx;

    private RawH2Client() {}

    /** Connects, completes the TLS handshake, sends the preface and SETTINGS. */
    public static RawH2Client connect(TestLoops loops, InetSocketAddress to, SslContext tls) throws Exception {
        CompletableFuture<Void> handshake = new CompletableFuture<>();
        RawH2Client client = new RawH2Client();
        client.channel = new Bootstrap()
                .group(loops.group)
                .channel(loops.transport.socketChannelClass())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline().addLast(tls.newHandler(c.alloc()), new Reader(client, handshake));
                    }
                })
                .connect(to)
                .sync()
                .channel();
        Await.get(handshake);
        return client;
    }

    /** CONNECT headers for {@code authority}. */
    public static Http2Headers connect(String authority) {
        return new DefaultHttp2Headers().method("CONNECT").authority(authority);
    }

    /** Runs {@code action} with the connection's context on its event loop, and waits for it. */
    public void onLoop(Consumer<ChannelHandlerContext> action) throws Exception {
        Await.get(channel.eventLoop().submit(() -> action.accept(ctx)));
    }

    public void headers(int streamId, Http2Headers headers, boolean endStream) throws Exception {
        onLoop(ctx -> {
            writer.writeHeaders(ctx, streamId, headers, 0, endStream, ctx.newPromise());
            ctx.flush();
        });
    }

    public void data(int streamId, ByteBuf payload, boolean endStream) throws Exception {
        onLoop(ctx -> {
            writer.writeData(ctx, streamId, payload, 0, endStream, ctx.newPromise());
            ctx.flush();
        });
    }

    public void reset(int streamId, long errorCode) throws Exception {
        onLoop(ctx -> {
            writer.writeRstStream(ctx, streamId, errorCode, ctx.newPromise());
            ctx.flush();
        });
    }

    /** Writes bytes as they are (hand-made frames). */
    public ChannelFuture raw(ByteBuf bytes) {
        return channel.writeAndFlush(bytes);
    }

    /** The next event that matches {@code type}, skipping others. */
    public <T extends Event> T next(Class<T> type) throws Exception {
        long deadline = System.nanoTime() + Await.TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Event e = events.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (type.isInstance(e)) {
                return type.cast(e);
            }
        }
        throw new java.util.concurrent.TimeoutException("no " + type.getSimpleName() + " within " + Await.TIMEOUT);
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private static final class Reader extends ByteToMessageDecoder {
        private final RawH2Client client;
        private final CompletableFuture<Void> handshake;
        private final DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader(false);

        Reader(RawH2Client client, CompletableFuture<Void> handshake) {
            this.client = client;
            this.handshake = handshake;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SslHandshakeCompletionEvent done) {
                if (done.isSuccess()) {
                    client.ctx = ctx;
                    // The preface goes first, before anything read (e.g. the server's SETTINGS) is answered.
                    ctx.write(Http2CodecUtil.connectionPrefaceBuf());
                    client.writer.writeSettings(ctx, new Http2Settings().initialWindowSize(1 << 20), ctx.newPromise());
                    ctx.flush();
                    handshake.complete(null);
                } else {
                    handshake.completeExceptionally(done.cause());
                }
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Http2Exception {
            reader.readFrame(ctx, in, new Http2FrameAdapter() {
                @Override
                public void onHeadersRead(
                        ChannelHandlerContext c, int streamId, Http2Headers headers, int padding, boolean endStream) {
                    client.events.add(new Headers(streamId, headers, endStream));
                }

                @Override
                public void onHeadersRead(
                        ChannelHandlerContext c,
                        int streamId,
                        Http2Headers headers,
                        int streamDependency,
                        short weight,
                        boolean exclusive,
                        int padding,
                        boolean endStream) {
                    client.events.add(new Headers(streamId, headers, endStream));
                }

                @Override
                public int onDataRead(
                        ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
                    byte[] bytes = new byte[data.readableBytes()];
                    data.getBytes(data.readerIndex(), bytes);
                    client.data
                            .computeIfAbsent(streamId, k -> new ByteArrayOutputStream())
                            .writeBytes(bytes);
                    client.events.add(new Data(streamId, bytes.length, endOfStream));
                    return data.readableBytes() + padding;
                }

                @Override
                public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
                    client.events.add(new Reset(streamId, errorCode));
                }

                @Override
                public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debug) {
                    GoAway g = new GoAway(lastStreamId, errorCode);
                    client.events.add(g);
                    client.goAway.complete(g);
                }

                @Override
                public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
                    client.writer.writeSettingsAck(c, c.newPromise());
                    c.flush();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            client.goAway.completeExceptionally(new java.io.IOException("connection closed without GOAWAY"));
            super.channelInactive(ctx);
        }
    }
}
