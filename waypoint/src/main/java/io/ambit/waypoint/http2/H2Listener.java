package io.ambit.waypoint.http2;

import static io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * The frames of one client connection, after Netty's decoder validated them against the protocol and the
 * limits: a request's HEADERS open an {@link H2ServerStream}, its DATA and trailers go to that stream.
 * Everything else (SETTINGS, PING, WINDOW_UPDATE, RST_STREAM, GOAWAY) Netty handles itself; a reset or the
 * connection's end reaches the stream through {@link H2Connection}'s stream-closed hook.
 */
final class H2Listener implements Http2FrameListener {
    private final H2Connection connection;

    H2Listener(H2Connection connection) {
        this.connection = connection;
    }

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        H2ServerStream s = connection.serverStream(connection.connection().stream(streamId));
        if (s == null) {
            return data.readableBytes() + padding; // nobody will read it: credit back at once
        }
        // Padding is never delivered: its credit goes back now; the data's when the exchange asks for more.
        return padding + s.onData(data, endOfStream);
    }

    @Override
    public void onHeadersRead(
            ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding, boolean endOfStream)
            throws Http2Exception {
        Http2Stream stream = connection.connection().stream(streamId);
        if (stream == null) {
            return; // already closed by the decoder (never happens for a valid HEADERS)
        }
        H2ServerStream s = connection.serverStream(stream);
        if (s == null) {
            s = new H2ServerStream(connection, stream);
            connection.attach(stream, s);
            s.start(H2Messages.request(streamId, headers, endOfStream));
        } else if (endOfStream) {
            s.onTrailers(H2Messages.trailers(streamId, headers));
        } else {
            throw Http2Exception.streamError(
                    streamId, PROTOCOL_ERROR, "a second HEADERS on stream %d without END_STREAM", streamId);
        }
    }

    @Override
    public void onHeadersRead(
            ChannelHandlerContext ctx,
            int streamId,
            Http2Headers headers,
            int streamDependency,
            short weight,
            boolean exclusive,
            int padding,
            boolean endOfStream)
            throws Http2Exception {
        onHeadersRead(ctx, streamId, headers, padding, endOfStream); // priorities are not used
    }

    @Override
    public void onPriorityRead(
            ChannelHandlerContext ctx, int streamId, int streamDependency, short weight, boolean exclusive) {}

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
        // The decoder closes the stream right after this; H2ServerStream#closed tells the exchange.
    }

    @Override
    public void onSettingsAckRead(ChannelHandlerContext ctx) {}

    @Override
    public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {}

    @Override
    public void onPingRead(ChannelHandlerContext ctx, long data) {}

    @Override
    public void onPingAckRead(ChannelHandlerContext ctx, long data) {}

    @Override
    public void onPushPromiseRead(
            ChannelHandlerContext ctx, int streamId, int promisedStreamId, Http2Headers headers, int padding) {
        // A client cannot push; the decoder refuses it before this.
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {}

    @Override
    public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {}

    @Override
    public void onUnknownFrame(
            ChannelHandlerContext ctx, byte frameType, int streamId, Http2Flags flags, ByteBuf payload) {}
}
