package io.ambit.bench.hbone;

import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.relay.InboundHold;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;

/**
 * Ending HBONE streams without RST_STREAM, for the JMH benchmarks: each side sends END_STREAM, and Netty
 * closes the stream channels once it went both ways. A reset per stream would soon trip the peer's
 * rapid-reset limit (200 per 30 s, {@code Http2Config}) and cost the pooled connection.
 */
final class Streams {
    private Streams() {}

    /**
     * Server side, for {@code ConnectResponse.accept}: drops whatever the client sends and answers its
     * END_STREAM with ours.
     */
    static void answerEndWithEnd(Http2StreamChannel stream) {
        stream.pipeline().addLast(EndWithEnd.INSTANCE);
        InboundHold.release(stream.pipeline());
        stream.config().setAutoRead(true);
    }

    /**
     * Client side, on a tunnel the server accepted: sends END_STREAM and reads until the server's; the
     * returned future completes when the stream channel has closed.
     */
    static ChannelFuture endCleanly(Http2StreamChannel stream) {
        stream.pipeline().addLast(Discard.INSTANCE);
        InboundHold.release(stream.pipeline());
        stream.config().setAutoRead(true);
        stream.writeAndFlush(HboneStreamCodec.END_STREAM);
        return stream.closeFuture();
    }

    /** Drops data; at the peer's END_STREAM sends ours. */
    @ChannelHandler.Sharable
    private static final class EndWithEnd extends ChannelInboundHandlerAdapter {
        static final EndWithEnd INSTANCE = new EndWithEnd();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                ctx.writeAndFlush(HboneStreamCodec.END_STREAM);
            }
            ReferenceCountUtil.release(evt);
        }
    }

    /** Drops data and events. */
    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter {
        static final Discard INSTANCE = new Discard();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            ReferenceCountUtil.release(evt);
        }
    }
}
