package io.ambit.waypoint.http2;

import io.ambit.waypoint.proxy.Downstream;
import io.ambit.waypoint.proxy.Exchange;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request stream of a client's HTTP/2 connection, the {@link Downstream} of its exchange: a plain object
 * on the connection's event loop, no channel of its own.
 *
 * <p>Reading is on demand: a body part goes to the exchange only when it asked for one, and the part's
 * flow-control credit goes back to the client only when the exchange asks for the next — so an unread body
 * holds the client by the stream's window (64 KiB by default), and what waits here is bounded by it. Parts
 * that arrive before they are asked for wait in {@code queued}. Following {@link Downstream#requestMore}, a
 * part is never handed over from inside that call: either the delivery in progress picks the demand up when
 * it returns, or a task on the loop delivers.
 */
final class H2ServerStream implements Downstream {
    private static final Logger log = LoggerFactory.getLogger(H2ServerStream.class);

    private final H2Connection connection;
    private final Http2Stream stream;
    private Exchange exchange;
    private ArrayDeque<HttpContent> queued; // arrived, not asked for yet; credit not returned
    private int owedCredit; // bytes handed to the exchange whose credit goes back on its next demand
    private boolean demand;
    private boolean delivering;
    private boolean drainScheduled;
    private boolean responseBegun; // a final response head written
    private boolean responseEnded; // END_STREAM written (perhaps still queued by flow control)
    private boolean resetWhenResponseSent; // answered early: stop the request body once END_STREAM is out
    private boolean closed;
    private boolean headRequest; // its response has no content, whatever the upstream sends (RFC 9110 §9.3.2)

    H2ServerStream(H2Connection connection, Http2Stream stream) {
        this.connection = connection;
        this.stream = stream;
    }

    // ---- from the client (H2Listener)

    /** The request head: the exchange starts (and may end before this returns). */
    void start(HttpRequest head) {
        headRequest = HttpMethod.HEAD.equals(head.method());
        exchange = Exchange.of(this, connection.services(), connection.tunnel(), head, false);
        delivering = true;
        try {
            exchange.start();
        } catch (RuntimeException e) {
            failed(e);
        } finally {
            delivering = false;
        }
        deliverQueued();
    }

    /**
     * A DATA frame's payload (not owned: retained when kept). Returns the bytes whose credit goes back now
     * (all of them when nobody will read them).
     */
    int onData(ByteBuf data, boolean endOfStream) {
        if (exchange == null) {
            return data.readableBytes(); // answered already: the rest of the body is dropped
        }
        ByteBuf content = data.retain();
        offer(endOfStream ? new DefaultLastHttpContent(content, true) : new DefaultHttpContent(content));
        return 0;
    }

    /** The request's trailers, its end. */
    void onTrailers(HttpContent last) {
        if (exchange == null) {
            ReferenceCountUtil.release(last);
            return;
        }
        offer(last);
    }

    private void offer(HttpContent part) {
        if (demand && !delivering && (queued == null || queued.isEmpty())) {
            deliver(part);
            deliverQueued();
        } else {
            if (queued == null) {
                queued = new ArrayDeque<>(2);
            }
            queued.add(part);
        }
    }

    private void deliver(HttpContent part) {
        demand = false;
        owedCredit += part.content().readableBytes();
        delivering = true;
        try {
            exchange.onRequestPart(part);
        } catch (RuntimeException e) {
            failed(e);
        } finally {
            delivering = false;
        }
    }

    /** Hands over queued parts while the exchange keeps asking (bounded by the queue, itself by the window). */
    private void deliverQueued() {
        while (demand && !delivering && exchange != null && queued != null && !queued.isEmpty()) {
            deliver(queued.poll());
        }
    }

    private void drain() {
        drainScheduled = false;
        deliverQueued();
    }

    /** The stream closed: both sides ended, the client or we reset it, or the connection ended. */
    void closed() {
        closed = true;
        releaseQueued();
        Exchange e = exchange;
        if (e != null && !responseEnded) {
            exchange = null;
            e.onDownstreamClosed(); // the client cancelled, or its connection is gone
        }
    }

    /**
     * The client ended its tunnel before this request was complete: it can never complete. The exchange ends
     * as a downstream termination; the stream is reset (INTERNAL_ERROR when a response was under way, so it
     * cannot pass for a whole one).
     */
    void clientCannotFinish() {
        Exchange e = exchange;
        exchange = null;
        releaseQueued();
        if (e != null) {
            try {
                e.onDownstreamClosed();
            } catch (RuntimeException again) {
                log.debug("exchange on stream {} failed while closing", stream.id(), again);
            }
        }
        resetIfOpen(responseBegun && !responseEnded ? Http2Error.INTERNAL_ERROR : Http2Error.CANCEL);
    }

    void writabilityChanged() {
        if (exchange != null && isWritable()) {
            exchange.onDownstreamWritable();
        }
    }

    // ---- Downstream: what the exchange calls

    @Override
    public EventLoop eventLoop() {
        return connection.ctx().channel().eventLoop();
    }

    @Override
    public ByteBufAllocator alloc() {
        return connection.ctx().alloc();
    }

    @Override
    public String protocol() {
        return "HTTP/2";
    }

    @Override
    public void requestMore() {
        demand = true;
        if (owedCredit > 0) {
            int bytes = owedCredit;
            owedCredit = 0;
            if (connection.consume(stream, bytes)) {
                connection.flushNow(); // a WINDOW_UPDATE was written
            }
        }
        if (!delivering && !drainScheduled && queued != null && !queued.isEmpty()) {
            drainScheduled = true;
            eventLoop().execute(this::drain);
        }
    }

    @Override
    public void write(HttpObject part) {
        writeLater(part);
        connection.flushNow();
    }

    @Override
    public void writeLater(HttpObject part) {
        if (closed || responseEnded) {
            ReferenceCountUtil.release(part); // reset meanwhile; or nothing may follow the end
            return;
        }
        if (part instanceof HttpResponse r && r.status().code() >= 200) {
            responseBegun = true;
        }
        try {
            responseEnded =
                    headRequest && part instanceof HttpResponse r && r.status().code() >= 200
                            ? H2Messages.writeHeadOnly(connection.encoder(), connection.ctx(), stream.id(), r)
                            : H2Messages.write(connection.encoder(), connection.ctx(), stream.id(), part);
        } catch (RuntimeException e) {
            // A response header HTTP/2 cannot carry: the stream is reset once the exchange's call returns.
            log.debug("response on stream {} could not be written", stream.id(), e);
            eventLoop().execute(() -> failed(e));
        }
    }

    @Override
    public void flush() {
        connection.flushNow();
    }

    @Override
    public boolean isWritable() {
        if (headRequest && responseEnded) {
            return true; // what the upstream still sends after a HEAD response's end is dropped: never wait for it
        }
        return !closed && connection.isWritable(stream);
    }

    @Override
    public boolean isActive() {
        return !closed && connection.ctx().channel().isActive();
    }

    @Override
    public void exchangeDone(boolean keepOpen) {
        exchange = null;
        releaseQueued();
        if (!keepOpen) {
            stopRequestBody();
        }
    }

    /**
     * Answered before the request ended: the rest of the body is stopped with RST_STREAM(NO_ERROR) once the whole
     * response is out, as RFC 9113 §8.1 says — clients must not discard a complete response for that reset, while
     * any other code makes them drop it (curl: "stream was not closed cleanly", no status). Not before: a reset
     * discards what flow control still holds, so an END_STREAM still queued waits ({@link #halfClosed()}).
     */
    private void stopRequestBody() {
        if (closed || !responseEnded || stream.state() == Http2Stream.State.CLOSED) {
            resetIfOpen(Http2Error.CANCEL); // no complete response to protect (cannot happen for exchangeDone)
        } else if (stream.state() == Http2Stream.State.HALF_CLOSED_LOCAL) {
            connection.reset(stream, Http2Error.NO_ERROR);
        } else {
            resetWhenResponseSent = true;
        }
    }

    /** Our END_STREAM went out (the stream is half-closed on our side). */
    void halfClosed() {
        if (resetWhenResponseSent && !closed && stream.state() == Http2Stream.State.HALF_CLOSED_LOCAL) {
            resetWhenResponseSent = false;
            connection.reset(stream, Http2Error.NO_ERROR);
        }
    }

    /**
     * The response was cut (the upstream reset or was lost after the response started, a timeout, a broken
     * request): RST_STREAM(INTERNAL_ERROR), as Envoy resets it. Never CANCEL, and never END_STREAM: clients
     * take a CANCEL as "the peer is no longer interested" (Node's http2 client then ends the response without
     * an error, so a truncated body passes for a whole one); INTERNAL_ERROR is an error to every client (gRPC:
     * status INTERNAL).
     */
    @Override
    public void abort() {
        exchange = null;
        releaseQueued();
        resetIfOpen(Http2Error.INTERNAL_ERROR);
    }

    // ---- endings

    /** RST_STREAM({@code error}) unless both sides already ended. */
    private void resetIfOpen(Http2Error error) {
        if (closed || stream.state() == Http2Stream.State.CLOSED) {
            return;
        }
        boolean clientEnded = stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE;
        if (clientEnded && responseEnded) {
            return; // the stream closes when our queued END_STREAM is sent
        }
        connection.reset(stream, error);
    }

    /** The exchange threw (a bug): reset the stream and end the exchange as if the client left. */
    private void failed(RuntimeException e) {
        log.warn("request stream {} failed", stream.id(), e);
        Exchange ex = exchange;
        exchange = null;
        releaseQueued();
        resetIfOpen(Http2Error.INTERNAL_ERROR);
        if (ex != null) {
            try {
                ex.onDownstreamClosed();
            } catch (RuntimeException again) {
                log.debug("exchange on stream {} failed while closing", stream.id(), again);
            }
        }
    }

    private void releaseQueued() {
        if (queued == null) {
            return;
        }
        int bytes = 0;
        for (HttpContent c; (c = queued.poll()) != null; ) {
            bytes += c.content().readableBytes();
            c.release();
        }
        if (bytes > 0 && !closed && connection.consume(stream, bytes)) {
            connection.flushNow(); // a dropped body's credit: the client may finish sending it
        }
    }
}
