package io.ambit.waypoint.route;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * The frames Netty's HTTP/2 decoder read from an endpoint (already checked against the protocol's state
 * machine, flow control, HPACK limits and header validity), routed to the stream's {@link H2Upstream} or to
 * the {@link H2Session}. Frames of streams without an upstream (ones the waypoint cancelled) are dropped.
 */
final class H2Frames extends Http2FrameAdapter {
    private final H2Session session;

    H2Frames(H2Session session) {
        this.session = session;
    }

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        H2Upstream u = session.upstream(streamId);
        return u == null ? data.readableBytes() + padding : u.onData(data, padding, endOfStream);
    }

    @Override
    public void onHeadersRead(
            ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding, boolean endOfStream) {
        H2Upstream u = session.upstream(streamId);
        if (u != null) {
            u.onHeaders(headers, endOfStream);
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
            boolean endOfStream) {
        onHeadersRead(ctx, streamId, headers, padding, endOfStream);
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
        // Before Netty closes the stream: the upstream fails with the server's reason, not a generic one.
        H2Upstream u = session.upstream(streamId);
        if (u != null) {
            u.onReset(errorCode);
        }
    }

    @Override
    public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
        session.onSettings(settings);
    }

    @Override
    public void onPushPromiseRead(
            ChannelHandlerContext ctx, int streamId, int promisedStreamId, Http2Headers headers, int padding)
            throws Http2Exception {
        // We sent SETTINGS_ENABLE_PUSH = 0: a push is a connection error (RFC 9113 §8.4).
        throw Http2Exception.connectionError(
                Http2Error.PROTOCOL_ERROR,
                "the upstream pushed stream %d although SETTINGS_ENABLE_PUSH is 0",
                promisedStreamId);
    }
}
