package io.ambit.hbone.stream;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.transport.Channels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay of one HBONE stream of a {@link FrameStreams} connection to a socket (the server's upstream, or the
 * client's application socket), with {@link Relay}'s rules (the ones the child-channel path follows):
 *
 * <ul>
 *   <li>Back-pressure: while the upstream cannot take more writes, the stream's DATA is queued, not read, so its
 *       bytes are not credited back and the peer's window stops it (as a child channel with auto-read off); while
 *       more than {@code maxSendBuffer} bytes wait to go out on the stream (a child channel's high-water mark), the
 *       upstream is not read, until they fall under half of it and the connection is writable.
 *   <li>Half-close: END_STREAM becomes a FIN after the bytes before it, a FIN an empty DATA frame with END_STREAM;
 *       the relay ends cleanly once both directions have ended.
 *   <li>Resets: RST_STREAM NO_ERROR ends it cleanly (a FIN to the upstream); any other RST_STREAM resets the upstream
 *       (and is not answered, RFC 9113 §5.4.2); a stream error the codec found is answered by the codec; an upstream
 *       reset, I/O error or early close resets the stream (RST_STREAM CANCEL) after what was read before it; a TLS
 *       error on the connection resets the upstream and ends the relay as ERROR.
 * </ul>
 *
 * <p>All its state lives on the connection's event loop; an upstream on another loop hands its events over.
 */
public final class StreamTunnel extends ChannelInboundHandlerAdapter implements ChannelFutureListener {
    private static final Logger log = LoggerFactory.getLogger(StreamTunnel.class);

    private final FrameStreams connection;
    private final FrameStream owner;
    private final Http2FrameStream stream;
    /** Whether the result counts the stream as side A (the server's view); else the socket is A (the client's). */
    private final boolean streamIsA;

    private final Channel upstream;
    private final Consumer<RelayResult> onEnd;
    private final EventExecutor loop;
    private final int highWater;
    private final int lowWater;

    // stream -> upstream
    private long bytesIn;
    private boolean peerEnded; // END_STREAM passed on (a FIN is on its way to the upstream)
    private ArrayDeque<Held> queued; // DATA not read while the upstream cannot take more
    private boolean upstreamBlocked;
    private boolean upstreamFlushPending;
    private int owed; // bytes delivered in this read, credited back at its end
    private boolean inRead;

    // upstream -> stream
    private long bytesOut;
    private boolean upstreamEnded; // FIN from the upstream (END_STREAM on its way to the peer)
    private long pending; // bytes written to the stream and not yet sent
    private boolean unwritable;
    private boolean streamFlushPending;

    private int directionsEnded;
    private boolean finished;
    private RelayResult.Outcome outcome = RelayResult.Outcome.CLEAN;
    private Throwable cause;
    private boolean streamClosed;
    private boolean upstreamClosed;
    private boolean completed;

    /**
     * @param owner told of the end of each connection read that delivered data ({@link FrameStreams#readLater}); it
     *     calls {@link #readComplete()}
     * @param upstream the socket, with an {@code InboundHold} and auto-read off until {@link #start}
     * @param onEnd told the result once the stream and the socket are both closed
     * @param maxSendBuffer bytes queued on the stream before the socket is no longer read
     * @param streamIsA the result's {@code aToB} counts stream to socket (else socket to stream)
     */
    public StreamTunnel(
            FrameStreams connection,
            FrameStream owner,
            Http2FrameStream stream,
            Channel upstream,
            Consumer<RelayResult> onEnd,
            int maxSendBuffer,
            boolean streamIsA) {
        this.connection = connection;
        this.owner = owner;
        this.stream = stream;
        this.streamIsA = streamIsA;
        this.upstream = upstream;
        this.onEnd = onEnd;
        this.loop = connection.ctx().executor();
        this.highWater = maxSendBuffer;
        this.lowWater = maxSendBuffer / 2;
    }

    /**
     * Starts relaying: first what the peer sent early (held), then the upstream gets this handler (its hold released).
     * In that order because the upstream's held events run at once when it shares our loop: its FIN can end the
     * stream, and the stream's close must find the peer's held END_STREAM passed on already (else it is a reset).
     */
    public void start(EarlyData held) {
        upstream.closeFuture().addListener(this);
        if (held != null) {
            for (Held h; (h = held.poll()) != null; ) {
                if (h.end()) {
                    onInputEnd();
                } else {
                    onData(h.payload(), h.owed());
                }
            }
        }
        if (upstream.eventLoop().inEventLoop()) {
            install();
        } else {
            upstream.eventLoop().execute(this::install);
        }
        readComplete();
        connection.flush();
    }

    private void install() { // on the upstream's loop
        upstream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        upstream.pipeline().addLast(Relay.HANDLER_NAME, this);
        InboundHold.release(upstream.pipeline());
        if (!upstream.isActive()) {
            onLoop(() -> abortByUpstream(RelayResult.Outcome.RESET, null));
            return;
        }
        upstream.config().setAutoRead(true);
    }

    private void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    // --- the stream's side (called by its owner on the connection's loop) ---

    /** A DATA payload from the peer; {@code flow} is what to credit back once it is read. */
    public void onData(ByteBuf payload, int flow) {
        if (finished || peerEnded) {
            payload.release();
            connection.consume(stream, flow);
            return;
        }
        if (upstreamBlocked || queued != null && !queued.isEmpty()) {
            queue(new Held(payload, flow, false));
            return;
        }
        deliver(payload, flow);
    }

    private void deliver(ByteBuf payload, int flow) {
        int n = payload.readableBytes();
        if (n > 0) {
            bytesIn += n;
            upstream.write(payload, upstream.voidPromise());
            upstreamFlushPending = true;
        } else {
            payload.release();
        }
        owed += flow;
        if (!inRead) {
            inRead = true;
            connection.readLater(owner);
        }
    }

    private void queue(Held item) {
        if (queued == null) {
            queued = new ArrayDeque<>(4);
        }
        queued.add(item);
    }

    /** END_STREAM from the peer. */
    public void onInputEnd() {
        if (peerEnded || finished) {
            return;
        }
        if (queued != null && !queued.isEmpty()) {
            queue(Held.END); // after the bytes before it
            return;
        }
        peerEnded = true;
        log.trace("{} stream {} input ended", connection.ctx().channel(), stream.id());
        Relay.shutdownOutput(upstream)
                .addListener(f -> onLoop(() -> {
                    if (f.isSuccess()) {
                        directionEnded();
                    } else {
                        abortByUpstream(RelayResult.Outcome.ERROR, f.cause());
                    }
                }));
    }

    /** The end of a read of the connection (or of a replay): flush the upstream, credit what was read. */
    public void readComplete() {
        inRead = false;
        if (upstreamFlushPending) {
            upstreamFlushPending = false;
            if (!upstream.isWritable()) {
                upstreamBlocked = true; // before the flush (P13): its drain event resumes us
            }
            upstream.flush();
            if (upstreamBlocked && upstream.isWritable()) {
                upstreamBlocked = false;
            }
        }
        if (owed > 0) {
            connection.consume(stream, owed);
            owed = 0;
        }
    }

    private void upstreamWritable() {
        upstreamBlocked = false;
        drainQueue(false);
        readComplete();
        connection.flush(); // the window credited above, outside a read of the connection
    }

    /** Delivers what was queued while the upstream was full; {@code all}: even if it fills up again. */
    private void drainQueue(boolean all) {
        while (queued != null && !queued.isEmpty() && (all || !upstreamBlocked)) {
            Held h = queued.poll();
            if (h.end()) {
                onInputEnd();
            } else {
                deliver(h.payload(), h.owed());
                if (!all && !upstream.isWritable()) {
                    readComplete(); // flushes, and blocks until the upstream drains
                }
            }
        }
    }

    /** RST_STREAM from the peer. */
    public void onReset(long errorCode) {
        if (errorCode == Http2Error.NO_ERROR.code()) {
            // The stream is gone but nothing went wrong: end the upstream with a FIN.
            if (finish()) {
                releaseQueued();
                Relay.shutdownOutput(upstream).addListener(f -> upstream.close());
            }
        } else {
            abortByStream(RelayResult.Outcome.RESET, null);
        }
    }

    /** A stream error the codec found in what the peer sent; the codec answers it with RST_STREAM. */
    public void onStreamError(Throwable error) {
        abortByStream(RelayResult.Outcome.ERROR, error);
    }

    /** The stream closed: by itself once END_STREAM went both ways; anything else is early. */
    public void onStreamClosed() {
        if (!finished && queued != null && !queued.isEmpty()) {
            drainQueue(true); // the peer ended its side in time: what it sent still goes to the upstream
            readComplete();
        }
        if (!(peerEnded && upstreamEnded)) {
            abortByStream(RelayResult.Outcome.RESET, null);
        }
        streamClosed = true;
        maybeComplete();
    }

    /** A TLS error on the whole connection: it is going away, and the relay ends as ERROR (as a child channel's). */
    public void onConnectionError(Throwable error) {
        abortByStream(RelayResult.Outcome.ERROR, error);
    }

    /** The connection turned writable again: the stream may have room too. */
    public void connectionWritable() {
        if (unwritable && pending < lowWater) {
            unwritable = false;
            upstream.config().setAutoRead(true);
        }
    }

    // --- the upstream's side (its handler; on the upstream's loop) ---

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (loop.inEventLoop()) {
            upstreamRead(buf);
        } else {
            loop.execute(() -> upstreamRead(buf));
        }
    }

    private void upstreamRead(ByteBuf buf) {
        int n = buf.readableBytes();
        if (n == 0 || upstreamEnded || finished) {
            buf.release();
            return;
        }
        bytesOut += n;
        pending += n;
        ChannelPromise sent = connection.ctx().newPromise();
        sent.addListener(f -> sent(n));
        connection.write(new DefaultHttp2DataFrame(buf, false).stream(stream), sent);
        streamFlushPending = true;
        if (pending > highWater) {
            unwritable = true;
        }
    }

    private void sent(int n) {
        pending -= n;
        if (unwritable && pending < lowWater && connection.ctx().channel().isWritable()) {
            unwritable = false;
            upstream.config().setAutoRead(true);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        onLoop(this::upstreamReadComplete);
        ctx.fireChannelReadComplete();
    }

    private void upstreamReadComplete() {
        if (streamFlushPending) {
            streamFlushPending = false;
            if (unwritable) {
                upstream.config().setAutoRead(false); // before the flush (P13)
            }
            connection.flush();
            if (!upstream.config().isAutoRead() && !unwritable) {
                upstream.config().setAutoRead(true);
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (upstream.isWritable()) {
            onLoop(this::upstreamWritable);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            onLoop(this::upstreamFin);
        } else {
            ReferenceCountUtil.release(evt);
        }
    }

    private void upstreamFin() {
        if (upstreamEnded || finished) {
            return;
        }
        upstreamEnded = true;
        ChannelPromise ended = connection.ctx().newPromise();
        connection.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true).stream(stream), ended);
        connection.flush();
        ended.addListener(f -> {
            if (f.isSuccess()) {
                directionEnded();
            } else {
                abortByStream(RelayResult.Outcome.ERROR, f.cause());
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        onLoop(() -> {
            if (!(peerEnded && upstreamEnded)) {
                abortByUpstream(RelayResult.Outcome.RESET, null);
            }
        });
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable error) {
        onLoop(() -> abortByUpstream(RelayResult.Outcome.ERROR, error));
    }

    /** The upstream closed. */
    @Override
    public void operationComplete(ChannelFuture closed) {
        onLoop(() -> {
            upstreamClosed = true;
            maybeComplete();
        });
    }

    // --- ending ---

    private void directionEnded() {
        if (++directionsEnded == 2 && finish()) {
            upstream.close(); // the stream closed by itself: END_STREAM went both ways
        }
    }

    /** The stream failed (reset by the peer, a stream error, closed early): reset the upstream. */
    private void abortByStream(RelayResult.Outcome why, Throwable error) {
        if (finish()) {
            outcome = why;
            cause = error;
            releaseQueued();
            log.debug("stream {} <-> {} ended by the stream: {} {}", stream.id(), upstream, why, error);
            // what was read before is delivered first (a reset with SO_LINGER 0 discards unflushed bytes)
            upstream.flush();
            Channels.reset(upstream);
            // the stream is reset or closed already, or the codec answers its error: nothing to send
        }
    }

    /** The upstream failed (reset, I/O error, closed early): reset the stream after what was written to it. */
    private void abortByUpstream(RelayResult.Outcome why, Throwable error) {
        if (finish()) {
            outcome = why;
            cause = error;
            releaseQueued();
            if (error != null) {
                log.debug("stream {} <-> {} failed on the upstream: {}", stream.id(), upstream, error.toString());
            }
            connection.flush();
            connection.reset(stream);
            Channels.reset(upstream);
        }
    }

    private boolean finish() {
        if (finished) {
            return false;
        }
        finished = true;
        return true;
    }

    private void releaseQueued() {
        if (queued != null) {
            for (Held h; (h = queued.poll()) != null; ) {
                if (h.payload() != null) {
                    h.payload().release();
                }
                connection.consume(stream, h.owed());
            }
        }
    }

    private void maybeComplete() {
        if (!streamClosed || !upstreamClosed || completed) {
            return;
        }
        completed = true;
        if (!finished) {
            // Both closed without our doing (e.g. by their owners): a reset as far as the relay goes.
            finished = true;
            outcome = RelayResult.Outcome.RESET;
        }
        RelayResult r = streamIsA
                ? new RelayResult(bytesIn, bytesOut, outcome, cause)
                : new RelayResult(bytesOut, bytesIn, outcome, cause);
        log.debug("stream {} <-> {} ended: {}", stream.id(), upstream, r);
        if (onEnd != null) {
            try {
                onEnd.accept(r);
            } catch (RuntimeException e) {
                log.warn("stream {} <-> {}: end callback failed", stream.id(), upstream, e);
            }
        }
    }
}
