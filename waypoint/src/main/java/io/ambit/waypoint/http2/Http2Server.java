package io.ambit.waypoint.http2;

import io.ambit.waypoint.ingress.Tunnel;
import io.ambit.waypoint.proxy.ProxyServices;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;

/**
 * The HTTP/2 server of one tunnel (prior knowledge; gRPC): Netty's frame codec with its abuse limits on,
 * one child channel per request stream, each an {@link Http2Stream} read on demand. Netty also refuses
 * what the protocol forbids: connection-specific headers, upper-case names, a body longer or shorter than
 * {@code content-length} (CVE-2021-21295), streams beyond {@code maxConcurrentStreams}.
 */
public final class Http2Server {
    /** Sharable: one for all request streams rather than one more object per request. */
    private static final Http2StreamFrameToHttpObjectCodec HTTP = new Http2StreamFrameToHttpObjectCodec(true);

    private Http2Server() {}

    /**
     * Adds the HTTP/2 server to the end of a tunnel's pipeline.
     *
     * <p>Why the deprecated {@code Http2MultiplexCodec} and not {@code Http2FrameCodec} +
     * {@code Http2MultiplexHandler}: the handler decides whether it serves by looking for a
     * {@code ServerChannel} parent, and a tunnel's parent is the HBONE TLS connection (a client-side
     * looking channel), so it takes the client's stream 1 for an h2c upgrade and fails the connection. The
     * codec asks its own HTTP/2 connection, which knows it is the server. Same limits, same child channels.
     */
    @SuppressWarnings("deprecation")
    public static void install(ChannelPipeline pipeline, ProxyServices services, Tunnel tunnel, Http2Limits limits) {
        Http2Settings settings = new Http2Settings()
                .maxConcurrentStreams(limits.maxConcurrentStreams())
                .maxHeaderListSize(limits.maxHeaderListSize())
                .initialWindowSize(limits.initialStreamWindow());
        var codec = io.netty.handler.codec.http2.Http2MultiplexCodecBuilder.forServer(
                        new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                                stream.pipeline()
                                        .addLast("h2-http", HTTP)
                                        .addLast("h2-server", new Http2Stream(services, tunnel));
                            }
                        })
                .initialSettings(settings)
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(limits.maxRstPerWindow(), limits.rstWindowSeconds())
                .encoderEnforceMaxRstFramesPerWindow(limits.maxRstPerWindow(), limits.rstWindowSeconds())
                .decoderEnforceMaxSmallContinuationFrames(limits.maxSmallContinuationFrames())
                .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
                .encoderEnforceMaxQueuedControlFrames(10_000);
        pipeline.addLast("h2", codec.build()).addLast("h2-tail", new ConnectionTail(limits.connectionWindow()));
    }

    /**
     * Opens the connection window past the protocol's 64 KiB once the codec is in place, and ends the
     * tunnel when the client ends it (the HTTP/2 connection cannot outlive its transport).
     */
    private static final class ConnectionTail extends ChannelInboundHandlerAdapter {
        private final int connectionWindow;

        ConnectionTail(int connectionWindow) {
            this.connectionWindow = connectionWindow;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            int increment = connectionWindow - Http2CodecUtil.DEFAULT_WINDOW_SIZE;
            Channel ch = ctx.channel();
            if (increment > 0 && ch.isActive()) {
                ch.writeAndFlush(new DefaultHttp2WindowUpdateFrame(increment));
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                ctx.close();
                return;
            }
            io.netty.util.ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg); // connection-level frames nobody else needs
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // The codec shows us its protocol errors first and then ends the connection itself with the right
            // GOAWAY (ENHANCE_YOUR_CALM for a reset flood); closing here would send NO_ERROR before it.
            if (io.netty.handler.codec.http2.Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
                ctx.close();
            }
        }
    }
}
