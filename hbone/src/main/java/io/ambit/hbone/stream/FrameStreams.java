package io.ambit.hbone.stream;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
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
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * An HBONE connection's streams without a Netty child channel each (in place of {@code Http2MultiplexHandler}, right
 * after the frame codec): stream frames and events go to a plain {@link FrameStream} per stream. Why: per DATA frame
 * a child channel costs a trip through its own pipeline, a WINDOW_UPDATE frame object and promise per read and a
 * flush of the connection after each read; per open stream a channel, its pipeline and its handlers (about 1 KB).
 * Connection frames (SETTINGS, PING, GOAWAY) go on to the handlers after it.
 *
 * <p>The server side ({@code DirectStreams}) makes a stream of each new request; the client side (the pool's direct
 * streams) registers the streams it opens. Both relay with {@link StreamTunnel}. Event-loop only.
 */
public abstract class FrameStreams extends Http2ChannelDuplexHandler {
    private final IntObjectHashMap<FrameStream> streams = new IntObjectHashMap<>();
    /** Streams that asked to hear of the end of the current read (they flush their socket then). */
    private final List<FrameStream> readThisTurn = new ArrayList<>();

    private ChannelHandlerContext ctx;

    @Override
    protected void handlerAdded0(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    public final ChannelHandlerContext ctx() {
        return ctx;
    }

    /** HEADERS on a stream no {@link FrameStream} follows yet (a new request on a server). */
    protected abstract void onUnknownHeaders(Http2HeadersFrame headers);

    /** Follows {@code stream}'s frames and events from now on. */
    protected final void register(int id, FrameStream stream) {
        streams.put(id, stream);
    }

    /** Calls {@code action} for every stream followed now (a copy: it may end streams). */
    protected final void forEachStream(Consumer<FrameStream> action) {
        if (!streams.isEmpty()) {
            for (FrameStream stream : new ArrayList<>(streams.values())) {
                action.accept(stream);
            }
        }
    }

    /** Whether a stream with this id is followed. */
    protected final boolean follows(int id) {
        return streams.containsKey(id);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2StreamFrame frame) || frame.stream() == null) {
            ctx.fireChannelRead(msg); // connection frames: SETTINGS, PING acks, GOAWAY (keep-alive, pool, tail)
            return;
        }
        FrameStream stream = streams.get(frame.stream().id());
        switch (msg) {
            case Http2HeadersFrame headers -> {
                if (stream == null) {
                    onUnknownHeaders(headers);
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
    public final void readLater(FrameStream stream) {
        readThisTurn.add(stream);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent event) {
            // Writability events are not used: a stream's writability is its own queued bytes, as a child channel's.
            if (event.type() == Http2FrameStreamEvent.Type.State
                    && event.stream().state() == Http2Stream.State.CLOSED) {
                FrameStream stream = streams.remove(event.stream().id());
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
            FrameStream stream = streams.get(e.stream().id());
            if (stream != null) {
                stream.onStreamError(e.getCause());
            }
            if (e.stream().state() != Http2Stream.State.CLOSED) {
                ctx.write(new DefaultHttp2ResetFrame(e.error()).stream(e.stream()), ctx.voidPromise());
                ctx.flush();
            }
            return;
        }
        if (cause.getCause() instanceof SSLException && !streams.isEmpty()) {
            // A TLS error ends the whole connection: its relays end as ERROR, as the multiplexer has each child
            // channel hear it before the close (else they would only see the close, a RESET).
            for (FrameStream stream : new ArrayList<>(streams.values())) {
                stream.onConnectionError(cause);
            }
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !streams.isEmpty()) {
            for (FrameStream stream : new ArrayList<>(streams.values())) {
                stream.connectionWritable();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The codec closes its streams before this (each a CLOSED event); anything left is closed here.
        if (!streams.isEmpty()) {
            List<FrameStream> left = new ArrayList<>(streams.values());
            streams.clear();
            for (FrameStream stream : left) {
                stream.onClosed();
            }
        }
        ctx.fireChannelInactive();
    }

    /** Writes a frame of one of our streams toward the codec. */
    public final ChannelFuture write(Object frame, ChannelPromise promise) {
        return ctx.write(frame, promise);
    }

    public final void flush() {
        ctx.flush();
    }

    /** Hands {@code bytes} of received DATA back to the peer's window (the codec sends WINDOW_UPDATE when due). */
    public final void consume(Http2FrameStream stream, int bytes) {
        if (bytes > 0 && stream.state() != Http2Stream.State.CLOSED) {
            ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), ctx.voidPromise());
        }
    }

    /** Resets {@code stream} (RST_STREAM CANCEL) unless it is closed already, and flushes. */
    public final void reset(Http2FrameStream stream) {
        if (stream.state() != Http2Stream.State.CLOSED) {
            ctx.write(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(stream), ctx.voidPromise());
            ctx.flush();
        }
    }
}
