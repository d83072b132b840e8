package io.ambit.hbone.server;

import io.ambit.hbone.metrics.HboneMetrics;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import java.util.ArrayList;
import java.util.List;

/**
 * An HBONE connection's CONNECT streams without a Netty child channel each (instead of {@code
 * Http2MultiplexHandler}): the frame codec's stream frames are handed to a plain {@link DirectStream} per stream, which
 * decides the CONNECT and relays it to its upstream socket. Why: per DATA frame a child channel costs a trip through
 * its own pipeline, a WINDOW_UPDATE frame object and promise per read, and a flush of the connection after each
 * read; per open tunnel a channel, its pipeline and its handlers (about 1 KB). Everything below (frame codec, flow
 * control with parking, RST limits, keep-alive, GOAWAY and drain) is the same codec as with child channels.
 *
 * <p>Streams are only relayed to an upstream ({@link ConnectResponse.Tunnel}); a server whose handler hands streams
 * over ({@link ConnectResponse.Accept}, the waypoint) keeps child channels. Switched on by {@link
 * HboneServerConfig#directStreams()} (or, for every server of a JVM, {@code -Dambit.hbone.directStreams=true}).
 * Event-loop only, like every handler.
 */
final class DirectStreams extends ChannelInboundHandlerAdapter {
    static final String PROPERTY = "ambit.hbone.directStreams";

    /** The default of {@link HboneServerConfig#directStreams()} ({@value #PROPERTY}; off unless set). */
    static boolean enabled() {
        return Boolean.getBoolean(PROPERTY);
    }

    final ConnectHandler handler;
    final HboneServerConfig config;
    final ServerCounters counters;
    final HboneMetrics.Side meters;
    private final IntObjectHashMap<DirectStream> streams = new IntObjectHashMap<>();
    /** Streams that delivered data during the current read: they flush their upstream at its end. */
    private final List<DirectStream> readThisTurn = new ArrayList<>();

    private ChannelHandlerContext ctx;

    DirectStreams(ConnectHandler handler, HboneServerConfig config, ServerCounters counters, HboneMetrics.Side meters) {
        this.handler = handler;
        this.config = config;
        this.counters = counters;
        this.meters = meters;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2StreamFrame frame) || frame.stream() == null) {
            ctx.fireChannelRead(msg); // connection frames: SETTINGS, PING acks, GOAWAY (keep-alive and the tail)
            return;
        }
        int id = frame.stream().id();
        DirectStream stream = streams.get(id);
        switch (msg) {
            case Http2HeadersFrame headers -> {
                if (stream == null) {
                    stream = new DirectStream(this, headers.stream());
                    streams.put(id, stream);
                    stream.onRequest(headers);
                } else {
                    stream.onHeaders(headers);
                }
            }
            case Http2DataFrame data -> {
                if (stream == null) {
                    consume(data.stream(), data.initialFlowControlledBytes()); // a stream we no longer follow
                    data.release();
                } else {
                    stream.onData(data);
                }
            }
            case Http2ResetFrame reset -> {
                if (stream != null) {
                    stream.onReset(reset.errorCode());
                }
            }
            default -> ReferenceCountUtil.release(msg); // stream WINDOW_UPDATEs and unknown frames
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!readThisTurn.isEmpty()) {
            for (int i = 0; i < readThisTurn.size(); i++) {
                readThisTurn.get(i).readComplete();
            }
            readThisTurn.clear();
        }
        ctx.fireChannelReadComplete(); // the codec flushes the connection after us (window updates included)
    }

    /** {@code stream} delivered data in this read: it is told when the read ends. */
    void readLater(DirectStream stream) {
        readThisTurn.add(stream);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent event) {
            // Writability events are not used: a stream's writability is its own queued bytes, as a child channel's.
            if (event.type() == Http2FrameStreamEvent.Type.State
                    && event.stream().state() == Http2Stream.State.CLOSED) {
                DirectStream stream = streams.remove(event.stream().id());
                if (stream != null) {
                    stream.onClosed();
                }
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            // A stream error the codec found in what the peer sent (a window overflow, a bad frame size, DATA after
            // END_STREAM): the stream is reset with that error's code, as RFC 9113 §5.4.2 asks (the multiplexer
            // does the same by closing the child channel with it) — never CANCEL (HBONE conformance cases
            // http2/5.1-5, 6.3-2, 6.9.1-3, connect/5.4.2-1).
            DirectStream stream = streams.get(e.stream().id());
            if (stream != null) {
                stream.onStreamError(e.getCause());
            }
            if (e.stream().state() != Http2Stream.State.CLOSED) {
                ctx.write(new DefaultHttp2ResetFrame(e.error()).stream(e.stream()), ctx.voidPromise());
                ctx.flush();
            }
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !streams.isEmpty()) {
            for (DirectStream stream : new ArrayList<>(streams.values())) {
                stream.connectionWritable();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The codec closes its streams before this (each a CLOSED event); anything left is closed here.
        if (!streams.isEmpty()) {
            List<DirectStream> left = new ArrayList<>(streams.values());
            streams.clear();
            for (DirectStream stream : left) {
                stream.onClosed();
            }
        }
        ctx.fireChannelInactive();
    }

    /** Writes a frame of one of our streams toward the codec. */
    ChannelFuture write(Object frame, ChannelPromise promise) {
        return ctx.write(frame, promise);
    }

    void flush() {
        ctx.flush();
    }

    /** Hands {@code bytes} of received DATA back to the peer's window (the codec sends WINDOW_UPDATE when due). */
    void consume(Http2FrameStream stream, int bytes) {
        if (bytes > 0 && stream.state() != Http2Stream.State.CLOSED) {
            ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), ctx.voidPromise());
        }
    }
}
