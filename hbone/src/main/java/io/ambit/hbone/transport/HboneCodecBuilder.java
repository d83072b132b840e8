package io.ambit.hbone.transport;

import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * Netty's frame-codec builder with {@link RecentResets} around the finished encoder (outside Netty's own
 * limits, so that the resets it leaves out are not counted either). Otherwise as {@link
 * Http2FrameCodecBuilder#forServer()} and {@link Http2FrameCodecBuilder#forClient()}.
 */
final class HboneCodecBuilder extends Http2FrameCodecBuilder {
    HboneCodecBuilder(boolean server) {
        server(server);
        gracefulShutdownTimeoutMillis(0); // as forServer() and forClient()
    }

    @Override
    protected Http2FrameCodec build(
            Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings initialSettings) {
        return super.build(decoder, new RecentResets(encoder), initialSettings);
    }
}
