package io.ambit.hbone.pool;

import io.ambit.hbone.metrics.HboneMetrics;
import io.ambit.hbone.stream.FrameStreams;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * A pooled HBONE connection's CONNECT streams without a Netty child channel each ({@link FrameStreams}, in place of
 * {@code Http2MultiplexHandler}): each tunnel the pool opens is a plain {@link ClientStream}, relayed straight to the
 * caller's socket. Such a connection carries only direct streams: Netty's multiplexer assumes every active stream has
 * a child channel (it visits them all on writability, GOAWAY and TLS events), so the pool keeps child-channel and
 * direct streams on separate connections of the same key. Event-loop only.
 */
final class DirectClientStreams extends FrameStreams {
    final HboneMetrics.Side meters;
    final PoolConfig config;

    DirectClientStreams(HboneMetrics.Side meters, PoolConfig config) {
        this.meters = meters;
        this.config = config;
    }

    /** Opens {@code stream}: a new HTTP/2 stream, its CONNECT headers; the answer goes to the stream. */
    void open(ClientStream stream, Http2Headers headers) {
        Http2FrameStream frameStream = newStream();
        stream.stream = frameStream;
        ChannelPromise written = ctx().newPromise();
        // The codec gives the stream its id inside this write, and it becomes active there.
        write(new DefaultHttp2HeadersFrame(headers, false).stream(frameStream), written);
        if (written.isDone() && !written.isSuccess()) {
            stream.openFailed(written.cause(), false);
        } else {
            register(frameStream.id(), stream);
            written.addListener(f -> {
                if (!f.isSuccess()) {
                    stream.openFailed(f.cause(), true);
                }
            });
        }
        flush();
    }

    @Override
    protected void onUnknownHeaders(Http2HeadersFrame headers) {
        ReferenceCountUtil.release(headers); // we advertise push disabled: the codec refuses server streams
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2GoAwayFrame goAway) {
            // Streams above its last id were never processed (the codec closes them next): safe to retry.
            int last = goAway.lastStreamId();
            forEachStream(s -> ((ClientStream) s).goAway(last));
        }
        super.channelRead(ctx, msg); // on to the pool's connection handler (retire)
    }
}
