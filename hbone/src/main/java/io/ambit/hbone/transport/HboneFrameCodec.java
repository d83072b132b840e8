package io.ambit.hbone.transport;

import io.ambit.hbone.server.Rfc9113Errors;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * Netty's frame codec answering, on the server side, the frames its decoder refuses as RFC 9113 answers them where
 * Netty's answer differs ({@link Rfc9113Errors}: a new stream below an opened one ends the connection with
 * PROTOCOL_ERROR; HEADERS on a stream the client ended get STREAM_CLOSED; a connection error's GOAWAY names the last
 * stream opened, not 2^31-1). Caught by the HBONE conformance cases http2/5.1.1-2, 5.1-6 and 5.4.1-2. Netty's
 * {@code onStreamError} is final here, so the stream errors are answered from {@link #onError}, before it.
 */
final class HboneFrameCodec extends Http2FrameCodec {
    private final Rfc9113Errors rfcErrors; // server side only: null on a client connection

    HboneFrameCodec(
            Http2ConnectionEncoder encoder,
            Http2ConnectionDecoder decoder,
            Http2Settings initialSettings,
            boolean decoupleCloseAndGoAway,
            boolean flushPreface) {
        super(encoder, decoder, initialSettings, decoupleCloseAndGoAway, flushPreface);
        this.rfcErrors = connection().isServer() ? Rfc9113Errors.follow(connection()) : null;
    }

    @Override
    public void onError(ChannelHandlerContext ctx, boolean outbound, Throwable cause) {
        if (rfcErrors != null
                && Http2CodecUtil.getEmbeddedHttp2Exception(cause) instanceof Http2Exception.StreamException e) {
            Http2Exception answer = rfcErrors.answer(e, outbound);
            if (answer == null) {
                ctx.flush(); // dropped without an answer (a frame on a stream we reset)
                return;
            }
            if (answer != e) {
                super.onError(ctx, outbound, answer);
                return;
            }
        }
        super.onError(ctx, outbound, cause);
    }

    @Override
    protected void onConnectionError(
            ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception http2Ex) {
        super.onConnectionError(
                ctx, outbound, cause, rfcErrors == null ? http2Ex : Rfc9113Errors.withLastStreamKnown(http2Ex));
    }
}
