package io.ambit.hbone.relay;

import io.ambit.hbone.transport.Channels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies bytes both ways between two channels until both directions have ended: TCP↔HBONE stream (a
 * {@link Http2StreamChannel} with {@link HboneStreamCodec} in its pipeline) or TCP↔TCP (passthrough).
 *
 * <ul>
 *   <li>Back-pressure: a side stops reading (auto-read off) while the other cannot take more writes, and
 *       resumes when it drains. Auto-read goes off <em>before</em> the flush (java-stack.md P13). On an
 *       HBONE stream, not reading also withholds HTTP/2 window, so the remote sender stops too.
 *   <li>Half-close: FIN or END_STREAM on one side becomes FIN / END_STREAM on the other after the bytes
 *       before it; the relay ends cleanly once both directions have ended.
 *   <li>Resets: RST_STREAM with NO_ERROR ends the relay cleanly (as ztunnel); any other RST_STREAM, a TCP
 *       reset, an I/O error, or a side closing early resets the other side (RST / RST_STREAM CANCEL).
 * </ul>
 *
 * <p>Give each channel an {@link InboundHold} as soon as it exists (Netty reads a half-closed socket even
 * with auto-read off); the relay replays what it held. The two channels may live on different event loops. Bytes written between them are handed over, not
 * copied: each {@code ByteBuf} read on one side is released by the write on the other.
 */
public final class Relay {
    private static final Logger log = LoggerFactory.getLogger(Relay.class);
    /** The pipeline name of the relay handler on each side. */
    public static final String HANDLER_NAME = "hbone-relay";

    // Field updaters rather than an AtomicInteger and an AtomicBoolean per relay: a relay lives as long as
    // its connection, and idle connections are what a node holds by the thousand.
    private static final AtomicIntegerFieldUpdater<Relay> DIRECTIONS_ENDED =
            AtomicIntegerFieldUpdater.newUpdater(Relay.class, "directionsEnded");
    private static final AtomicIntegerFieldUpdater<Relay> FINISHED =
            AtomicIntegerFieldUpdater.newUpdater(Relay.class, "finished");
    private static final AtomicIntegerFieldUpdater<Relay> CHANNELS_CLOSED =
            AtomicIntegerFieldUpdater.newUpdater(Relay.class, "channelsClosed");

    private final Side a;
    private final Side b;
    private volatile int directionsEnded;
    /** 0 while relaying; set to 1 once, by whoever ends the relay (both directions ended, a reset, an error). */
    private volatile int finished;

    private volatile int channelsClosed;
    /** Told the result once, when the relay has ended (may be null). */
    private final Consumer<RelayResult> onEnd;
    /** The result once ended; guarded by {@code this}. */
    private RelayResult ended;
    /** Created only when someone asks ({@link #result()}); guarded by {@code this}. */
    private CompletableFuture<RelayResult> result;

    private volatile RelayResult.Outcome outcome = RelayResult.Outcome.CLEAN;
    private volatile Throwable cause;

    private Relay(Channel a, Channel b, Consumer<RelayResult> onEnd) {
        this.onEnd = onEnd;
        this.a = new Side(a);
        this.b = new Side(b);
        this.a.peer = this.b;
        this.b.peer = this.a;
    }

    /**
     * Starts relaying between {@code a} and {@code b}. Each channel gets a relay handler at the end of its
     * pipeline; an {@link InboundHold} there is then removed, so what it held is relayed first. Reading is
     * switched on for both.
     */
    public static Relay start(Channel a, Channel b) {
        return start(a, b, null);
    }

    /**
     * {@link #start(Channel, Channel)}, telling {@code onEnd} the result once the relay has ended and both
     * channels are closed (on the event loop of the channel that closed last). Cheaper than {@link
     * #result()} for a caller that only needs that callback: no future per relay.
     */
    public static Relay start(Channel a, Channel b, Consumer<RelayResult> onEnd) {
        Relay relay = new Relay(a, b, onEnd);
        log.debug("relay {} <-> {} starts", a, b);
        relay.a.install();
        relay.b.install();
        // Each side listens for its channel's close itself: no listener objects per relay.
        a.closeFuture().addListener(relay.a);
        b.closeFuture().addListener(relay.b);
        return relay;
    }

    /** Completes when the relay has ended and both channels are closed. */
    public CompletableFuture<RelayResult> result() {
        synchronized (this) {
            if (result == null) {
                result = ended != null ? CompletableFuture.completedFuture(ended) : new CompletableFuture<>();
            }
            return result;
        }
    }

    /** One of the two channels closed; the second close completes the relay. */
    private void channelClosed() {
        if (CHANNELS_CLOSED.incrementAndGet(this) == 2) {
            complete();
        }
    }

    /** Bytes relayed from A to B so far. */
    public long bytesAToB() {
        return a.bytesRead;
    }

    /** Bytes relayed from B to A so far. */
    public long bytesBToA() {
        return b.bytesRead;
    }

    /**
     * Ends our sending side of {@code channel} after everything written before: FIN on a socket,
     * END_STREAM on an HBONE stream.
     */
    public static ChannelFuture shutdownOutput(Channel channel) {
        if (channel instanceof DuplexChannel duplex) {
            // Flush first: shutdownOutput fails writes still queued in the channel.
            ChannelFuture flushed = channel.writeAndFlush(Unpooled.EMPTY_BUFFER);
            var promise = channel.newPromise();
            flushed.addListener(f -> {
                if (f.isSuccess()) {
                    duplex.shutdownOutput(promise);
                } else {
                    promise.tryFailure(f.cause());
                }
            });
            return promise;
        }
        return channel.writeAndFlush(HboneStreamCodec.END_STREAM);
    }

    /** Resets {@code channel}: RST on a socket, RST_STREAM CANCEL on an HBONE stream. */
    public static ChannelFuture reset(Channel channel) {
        // Closing a stream channel whose stream has not ended both ways sends RST_STREAM CANCEL.
        return channel instanceof Http2StreamChannel ? channel.close() : Channels.reset(channel);
    }

    private void directionEnded() {
        if (DIRECTIONS_ENDED.incrementAndGet(this) == 2 && finish()) {
            a.channel.close();
            b.channel.close();
        }
    }

    private void cleanClose(Side closedByPeer) {
        // RST_STREAM NO_ERROR: the stream is gone but nothing went wrong; end the other side with a FIN.
        if (finish()) {
            Side other = closedByPeer.peer;
            shutdownOutput(other.channel).addListener(f -> other.channel.close());
            closedByPeer.channel.close();
        }
    }

    private void abort(Side failed, RelayResult.Outcome why, Throwable error) {
        if (finish()) {
            outcome = why;
            cause = error;
            if (error != null) {
                log.debug("relay {} <-> {} failed on {}: {}", a.channel, b.channel, failed.channel, error.toString());
            }
            // What was read before the failure is delivered first, as a copy loop that writes each chunk
            // before reading the next would have: e.g. a GOAWAY that arrived in the same read as the
            // RST_STREAM. An abort inside a read comes before channelReadComplete's flush, and the reset
            // (SO_LINGER 0) would discard the unflushed bytes.
            failed.peer.channel.flush();
            reset(failed.peer.channel);
            if (resetByThePeer(failed.channel, why)) {
                // after Netty has marked the stream closed: then closing sends nothing, and frees what is queued
                failed.channel.eventLoop().execute(() -> failed.channel.close());
            } else if (!answeredByTheCodec(failed.channel, error)) {
                reset(failed.channel);
            }
        }
    }

    /**
     * A stream error the HTTP/2 codec found in what the peer sent (a window overflow, a bad frame size) reaches the
     * stream's pipeline first; Netty then closes the stream with that error's code (RST_STREAM FLOW_CONTROL_ERROR,
     * FRAME_SIZE_ERROR...), as RFC 9113 §5.4.2 asks. Closing it here first would answer CANCEL instead (HBONE
     * conformance cases http2/6.9.1-3, 6.3-2: a race between the relay's start and the bad frame).
     */
    private static boolean answeredByTheCodec(Channel channel, Throwable error) {
        return channel instanceof Http2StreamChannel
                && error != null
                && Http2CodecUtil.getEmbeddedHttp2Exception(error) instanceof Http2Exception.StreamException;
    }

    /**
     * A stream the peer reset: Netty hands the RST_STREAM to the stream's pipeline before it marks the stream
     * closed. Closing the stream channel there would answer the peer's RST_STREAM with a RST_STREAM CANCEL, which RFC 9113 §5.4.2 forbids (HBONE conformance cases http2/5.1-8..10
     * once the tunnel is open).
     */
    private static boolean resetByThePeer(Channel channel, RelayResult.Outcome why) {
        return channel instanceof Http2StreamChannel && why == RelayResult.Outcome.RESET;
    }

    /** True for the one caller that ends the relay. */
    private boolean finish() {
        return FINISHED.compareAndSet(this, 0, 1);
    }

    private boolean finished() {
        return finished != 0;
    }

    private void complete() {
        if (!finished()) {
            // Both closed without our doing (e.g. by their owners): a reset as far as the relay goes.
            finished = 1;
            outcome = RelayResult.Outcome.RESET;
        }
        RelayResult r = new RelayResult(a.bytesRead, b.bytesRead, outcome, cause);
        log.debug("relay {} <-> {} ended: {}", a.channel, b.channel, r);
        CompletableFuture<RelayResult> f;
        synchronized (this) {
            ended = r;
            f = result;
        }
        if (onEnd != null) {
            try {
                onEnd.accept(r);
            } catch (RuntimeException e) {
                log.warn("relay {} <-> {}: end callback failed", a.channel, b.channel, e);
            }
        }
        if (f != null) {
            f.complete(r);
        }
    }

    /** The relay's handler on one channel: reads there, writes to the peer. */
    private final class Side extends ChannelInboundHandlerAdapter implements ChannelFutureListener {
        final Channel channel;
        /** Written only on this side's event loop (channelRead), read from any thread. */
        volatile long bytesRead;

        volatile Side peer;
        volatile boolean inputEnded;
        volatile boolean outputEnding;
        private boolean pendingFlush;

        Side(Channel channel) {
            this.channel = channel;
        }

        /** This side's channel closed. */
        @Override
        public void operationComplete(ChannelFuture closed) {
            channelClosed();
        }

        void install() {
            if (channel.eventLoop().inEventLoop()) {
                install0();
            } else {
                channel.eventLoop().execute(this::install0);
            }
        }

        private void install0() {
            if (channel instanceof DuplexChannel) {
                channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            }
            channel.pipeline().addLast(HANDLER_NAME, this);
            InboundHold.release(channel.pipeline());
            if (!channel.isActive()) {
                abort(this, RelayResult.Outcome.RESET, null);
                return;
            }
            channel.config().setAutoRead(true);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf buf)) {
                ReferenceCountUtil.release(msg); // trailers and the like are not tunnel data
                return;
            }
            int n = buf.readableBytes();
            if (n == 0 || peer.outputEnding || finished()) {
                buf.release();
                return;
            }
            bytesRead += n; // single writer
            peer.channel.write(buf, peer.channel.voidPromise());
            pendingFlush = true;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (pendingFlush) {
                pendingFlush = false;
                Channel out = peer.channel;
                if (!out.isWritable()) {
                    channel.config().setAutoRead(false); // before the flush (P13)
                }
                out.flush();
                // The peer may have drained (and fired its writability event) before auto-read went off.
                if (!channel.config().isAutoRead() && out.isWritable()) {
                    channel.config().setAutoRead(true);
                }
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (channel.isWritable()) {
                peer.channel.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                if (!inputEnded && !finished()) {
                    inputEnded = true;
                    log.trace("{} input ended", channel);
                    Side out = peer;
                    out.outputEnding = true;
                    shutdownOutput(out.channel).addListener(f -> {
                        if (f.isSuccess()) {
                            directionEnded();
                        } else {
                            abort(out, RelayResult.Outcome.ERROR, f.cause());
                        }
                    });
                }
            } else if (evt instanceof Http2ResetFrame reset) {
                if (reset.errorCode() == Http2Error.NO_ERROR.code()) {
                    cleanClose(this);
                } else {
                    abort(this, RelayResult.Outcome.RESET, null);
                }
            } else {
                ReferenceCountUtil.release(evt); // e.g. the GOAWAY Netty hands to each stream it cuts off
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // A stream channel closes by itself once END_STREAM went both ways; anything else is early.
            if (!(inputEnded && outputEnding)) {
                abort(this, RelayResult.Outcome.RESET, null);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable error) {
            abort(this, RelayResult.Outcome.ERROR, error);
        }
    }
}
