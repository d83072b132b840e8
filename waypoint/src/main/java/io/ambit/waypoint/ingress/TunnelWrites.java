package io.ambit.waypoint.ingress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;

/**
 * Merges the bytes an HTTP/2 connection inside an HBONE tunnel writes between two flushes into one write to the
 * tunnel: the upstream's connection (route) and the client's (http2) both sit on one.
 *
 * <p>Why: the tunnel is itself an HTTP/2 stream of the HBONE connection, and each {@code ByteBuf} written to it
 * becomes an HBONE DATA frame of its own, with its own frame object, promise and listener, flow-control entry and
 * frame header. Netty's HTTP/2 frame writer writes a frame's header and its payload as separate buffers, so one
 * request's HEADERS were two HBONE DATA frames (three with a body). Merged, a request is one HBONE frame, and so
 * is everything a read batch produces (SETTINGS and PING acknowledgements, WINDOW_UPDATEs). Small frames are
 * copied into one buffer; large payloads are chained without copying.
 *
 * <p>Flushes: once per event-loop turn. A flush asks for one task that writes what is pending to the tunnel and
 * flushes it after the loop handled the I/O of its turn; more flushes in the same turn join it. Why: the
 * connections flush after every part they write — the upstream's after each request's HEADERS, the client's after
 * each response — and these writes happen while another connection reads (a request read from a client's tunnel
 * goes to the endpoint's, a response the other way), so each was an HBONE DATA frame of its own: a child-channel
 * write with its promise and listener, a frame through the HBONE connection's flow controller and frame writer. Per
 * turn, the requests a read batch brings for one endpoint's connection, and the responses for one client's
 * connection, go as one frame. The HBONE connections themselves flush once per turn already
 * ({@code route.BatchedFlushes}), so nothing reaches the socket later than before: the task runs before the loop
 * waits for I/O again. A close writes and flushes what is pending first (nothing is lost or reordered).
 *
 * <p>Promises: the merged write completes the frames' promises (void ones are not tracked). Nothing is held
 * past the turn or a close.
 */
public final class TunnelWrites extends ChannelOutboundHandlerAdapter {
    /** Up to this many bytes in all, frames are copied together; beyond, they are composed. */
    private static final int COPY_LIMIT = 4096;

    private ByteBuf pending;
    private boolean pendingIsOurs; // a buffer allocated here (may take more bytes) rather than a writer's
    private final ArrayList<ChannelPromise> promises = new ArrayList<>(2);
    private ChannelHandlerContext ctx;
    private boolean flushScheduled;
    private boolean removed;
    private final Runnable flushTask = this::flushPending;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            writePending(ctx); // keeps the order of what is not bytes (e.g. the tunnel's END_STREAM)
            ctx.write(msg, promise);
            return;
        }
        if (!promise.isVoid()) {
            promises.add(promise);
        }
        if (pending == null) {
            pending = buf;
            pendingIsOurs = false;
        } else {
            append(ctx, buf);
        }
    }

    private void append(ChannelHandlerContext ctx, ByteBuf buf) {
        int total = pending.readableBytes() + buf.readableBytes();
        if (total <= COPY_LIMIT && !(pending instanceof CompositeByteBuf)) {
            if (!pendingIsOurs) {
                ByteBuf copy = ctx.alloc().directBuffer(Math.max(512, total));
                copy.writeBytes(pending);
                pending.release();
                pending = copy;
                pendingIsOurs = true;
            }
            pending.writeBytes(buf);
            buf.release();
            return;
        }
        CompositeByteBuf composite;
        if (pending instanceof CompositeByteBuf c) {
            composite = c;
        } else {
            composite = ctx.alloc().compositeDirectBuffer(16);
            composite.addComponent(true, pending);
            pending = composite;
            pendingIsOurs = false;
        }
        composite.addComponent(true, buf);
    }

    private void writePending(ChannelHandlerContext ctx) {
        ByteBuf out = pending;
        if (out == null) {
            return;
        }
        pending = null;
        int n = promises.size();
        if (n == 0) {
            ctx.write(out, ctx.voidPromise());
        } else if (n == 1) {
            ctx.write(out, promises.get(0));
            promises.clear();
        } else {
            ChannelPromise[] each = promises.toArray(new ChannelPromise[0]);
            promises.clear();
            ctx.write(out).addListener(f -> {
                for (ChannelPromise p : each) {
                    if (f.isSuccess()) {
                        p.trySuccess();
                    } else {
                        p.tryFailure(f.cause());
                    }
                }
            });
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (!flushScheduled) {
            flushScheduled = true;
            ctx.executor().execute(flushTask);
        }
    }

    /** The turn's flush: everything written since the last one, as one write to the tunnel. */
    private void flushPending() {
        flushScheduled = false;
        if (removed) {
            return; // the tunnel closed meanwhile: what was pending was released with it
        }
        writePending(ctx);
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        writePending(ctx); // a GOAWAY written just before goes out first
        ctx.flush();
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        removed = true;
        ByteBuf out = pending;
        pending = null;
        ReferenceCountUtil.release(out);
        for (ChannelPromise p : promises) {
            p.tryFailure(new ClosedChannelException());
        }
        promises.clear();
    }
}
