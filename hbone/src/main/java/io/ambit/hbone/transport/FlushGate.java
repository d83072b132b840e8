package io.ambit.hbone.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;

/**
 * Passes a flush on only when something was written since the last one. Sits right after the {@code SslHandler} of
 * an HBONE connection: Netty's HTTP/2 codec flushes at the end of every read (even one that wrote nothing), and a
 * child stream flushes after handing back window it may not have sent; each such flush is, in the {@code
 * SslHandler}, a wrap of an empty buffer — two promises, an output buffer and a trip into BoringSSL — and a write of
 * nothing to the socket, once per HBONE read. What the {@code SslHandler} writes by itself (handshake, alerts,
 * close_notify) it flushes by itself, so nothing it holds waits for a flush this gate held back.
 *
 * <p>One per connection (it keeps a flag); event-loop only, like every handler.
 */
public final class FlushGate extends ChannelDuplexHandler {
    /** The pipeline name, right after the TLS handler and before {@link Channels#FLUSH_CONSOLIDATION}. */
    public static final String NAME = "h2-flush-gate";

    /**
     * {@code -Dambit.hbone.flushGate=false} leaves it out (every flush reaches the TLS handler, as before), for
     * side-by-side measurements in one build.
     */
    static final boolean ENABLED = !"false".equals(System.getProperty("ambit.hbone.flushGate"));

    /**
     * Adds a gate after the handler named {@code after} (the TLS handler's position) and returns the name the next
     * handler goes after: {@link #NAME}, or {@code after} itself when the gate is switched off.
     */
    public static String addAfter(ChannelPipeline pipeline, String after) {
        if (!ENABLED) {
            return after;
        }
        pipeline.addAfter(after, NAME, new FlushGate());
        return NAME;
    }

    /** Something was written and not yet flushed (conservatively true at the start). */
    private boolean written = true;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        written = true;
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (written) {
            written = false; // before the flush: a write from a listener it completes sets it again
            ctx.flush();
        }
    }

    /** True if a flush now would reach the TLS handler (for tests). */
    boolean pending() {
        return written;
    }
}
