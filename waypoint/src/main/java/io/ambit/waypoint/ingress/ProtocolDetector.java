package io.ambit.waypoint.ingress;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Tells HTTP/2 with prior knowledge (the connection preface {@code PRI * HTTP/2.0...}, as gRPC and
 * {@code curl --http2-prior-knowledge} send) from HTTP/1.1 by the first bytes of a tunnel, installs the
 * matching server and removes itself; the bytes it looked at go to the new handlers. It decides as soon as
 * the bytes diverge from the preface (one byte for any HTTP/1.1 method), so it never waits on a short
 * HTTP/1.1 request.
 *
 * <p>With a timeout, a tunnel that says nothing at all for that long is closed: the HTTP servers' own head
 * timers start only once they are installed, that is after the first byte, so without this a client could
 * hold a tunnel open forever by opening it and staying silent (slowloris without even a request line).
 */
public final class ProtocolDetector extends ByteToMessageDecoder {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Consumer<ChannelPipeline> http1;
    private final Consumer<ChannelPipeline> http2;
    private final Duration silence;
    private ScheduledFuture<?> silenceTimer;

    /**
     * @param http1 adds the HTTP/1.1 handlers (after this one)
     * @param http2 adds the HTTP/2 handlers (after this one)
     */
    public ProtocolDetector(Consumer<ChannelPipeline> http1, Consumer<ChannelPipeline> http2) {
        this(http1, http2, null);
    }

    /**
     * @param http1 adds the HTTP/1.1 handlers (after this one)
     * @param http2 adds the HTTP/2 handlers (after this one)
     * @param silence how long the first bytes may take before the tunnel is closed, or null for no limit
     */
    public ProtocolDetector(Consumer<ChannelPipeline> http1, Consumer<ChannelPipeline> http2, Duration silence) {
        if (silence != null && (silence.isNegative() || silence.isZero())) {
            throw new IllegalArgumentException("silence: " + silence + " (expected: > 0, or null for no limit)");
        }
        this.http1 = http1;
        this.http2 = http2;
        this.silence = silence;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        super.handlerAdded(ctx);
        if (silence != null) {
            // One task per tunnel, not per request; cancelled as soon as the protocol is known.
            silenceTimer = ctx.executor().schedule(() -> ctx.close(), silence.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (silenceTimer != null) {
            silenceTimer.cancel(false);
            silenceTimer = null;
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), PREFACE.length);
        int start = in.readerIndex();
        for (int i = 0; i < n; i++) {
            if (in.getByte(start + i) != PREFACE[i]) {
                switchTo(ctx, http1);
                return;
            }
        }
        if (n == PREFACE.length) {
            switchTo(ctx, http2);
        }
    }

    private void switchTo(ChannelHandlerContext ctx, Consumer<ChannelPipeline> installer) {
        // Installed after this handler; removing it hands them the bytes it holds.
        installer.accept(ctx.pipeline());
        ctx.pipeline().remove(this);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            ctx.close(); // the client ended the tunnel before saying anything we could serve
            return;
        }
        super.userEventTriggered(ctx, evt);
    }
}
