package io.ambit.waypoint.route;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * One request to an endpoint as one stream of a shared {@link H2Session}: a plain object, not a channel. The
 * request's HTTP objects become frames as they are written; the response's frames, handed over by the session,
 * become HTTP objects for the exchange.
 *
 * <p>Back-pressure: while the exchange does not read ({@link #reading(boolean) reading(false)}: its client is
 * slow), response parts are held here and their DATA bytes are not returned to the stream's flow-control window,
 * so the endpoint stops after at most one window (1 MiB) per stream; resuming delivers them and returns the
 * credit. Request body writability is the stream's remote flow-control window (and the tunnel's).
 *
 * <p>Life: {@link H2Session#open()} counts it into the session's streams; it leaves them exactly once, when it
 * is released or aborted by the exchange or fails (stream reset, connection gone) — then the exchange hears
 * {@link UpstreamListener#onUpstreamClosed} and does not release it. Everything runs on the session's loop.
 */
final class H2Upstream implements Upstream {
    private final H2Session session;
    private UpstreamListener listener;
    private Http2Stream stream; // from the request's HEADERS on
    private ArrayDeque<HttpObject> held; // response parts withheld while the exchange does not read
    private boolean reading = true;
    private boolean draining;
    private boolean finalHeadSeen;
    private boolean responseEnded;
    private boolean ended;
    /** Set while the session's current read batch delivered to it (see {@link H2Session#readBatch}). */
    boolean inReadBatch;

    H2Upstream(H2Session session) {
        this.session = session;
    }

    @Override
    public void listen(UpstreamListener l) {
        this.listener = l;
    }

    @Override
    public Channel channel() {
        return session.tunnel();
    }

    // ---- the request, up

    @Override
    public void write(HttpObject part) {
        if (ended) {
            ReferenceCountUtil.release(part);
            return;
        }
        if (part instanceof HttpRequest head) {
            if (stream != null) {
                ReferenceCountUtil.release(part); // one head per stream; the exchange never sends two
                return;
            }
            boolean bodyless = head instanceof LastHttpContent last
                    && !last.content().isReadable()
                    && last.trailingHeaders().isEmpty();
            stream = session.startStream(this, H2Messages.request(head), bodyless);
            if (stream == null || bodyless || !(head instanceof HttpContent)) {
                ReferenceCountUtil.release(part); // refused (this upstream fails on its own), or nothing left
                return;
            }
        }
        if (!(part instanceof HttpContent body)) {
            return;
        }
        if (stream == null || !stream.state().localSideOpen()) {
            body.release(); // no stream (refused) or the request already ended: nothing more goes up
            return;
        }
        boolean last = body instanceof LastHttpContent;
        HttpHeaders trailers = last ? ((LastHttpContent) body).trailingHeaders() : null;
        boolean withTrailers = trailers != null && !trailers.isEmpty();
        ByteBuf data = body.content();
        if (data.isReadable() || (last && !withTrailers)) {
            session.writeData(stream, data, last && !withTrailers); // the encoder owns (and releases) data
        } else {
            data.release();
        }
        if (withTrailers) {
            session.writeTrailers(stream, H2Messages.trailers(trailers));
        }
        session.flushNow();
    }

    @Override
    public boolean isWritable() {
        if (stream == null) {
            return session.tunnel().isWritable();
        }
        // A closed stream takes nothing more; saying "writable" lets the exchange drain (and drop) the client's
        // body instead of waiting for a writability change that will not come.
        return !stream.state().localSideOpen() || session.isWritable(stream);
    }

    /** From the session: the remote window (or the tunnel) made the stream writable again. */
    void writable() {
        UpstreamListener l = listener;
        if (l != null && !ended) {
            l.onUpstreamWritable();
        }
    }

    // ---- the response, down

    /** The stream's HEADERS: the response head, an interim head, or the trailers. */
    void onHeaders(Http2Headers headers, boolean endStream) {
        if (ended) {
            return;
        }
        HttpObject part;
        if (finalHeadSeen) {
            part = H2Messages.trailers(headers); // the decoder lets only END_STREAM HEADERS through here
        } else {
            HttpResponse head = H2Messages.response(headers, endStream);
            finalHeadSeen = head.status().code() >= 200;
            part = head;
        }
        responseEnded |= endStream;
        deliver(part);
    }

    /** A DATA frame; returns the bytes processed now (the rest are returned when the exchange reads them). */
    int onData(ByteBuf data, int padding, boolean endStream) {
        int bytes = data.readableBytes();
        if (ended) {
            return bytes + padding;
        }
        responseEnded |= endStream;
        // The frame is a slice of the decoder's buffer: retained, it stays valid after this read.
        HttpContent part =
                endStream ? new DefaultLastHttpContent(data.retain()) : new DefaultHttpContent(data.retain());
        return deliver(part) ? bytes + padding : padding;
    }

    /** Hands {@code part} to the exchange now, or holds it; true when it was delivered (or dropped). */
    private boolean deliver(HttpObject part) {
        UpstreamListener l = listener;
        if (l == null || ended) {
            ReferenceCountUtil.release(part);
            return true;
        }
        if (reading && (held == null || held.isEmpty())) {
            session.readBatch(this);
            l.onResponse(part);
            return true;
        }
        if (held == null) {
            held = new ArrayDeque<>(4);
        }
        held.add(part);
        return false;
    }

    /** The session's read batch ended: the exchange flushes what it wrote on without flushing. */
    void readComplete() {
        UpstreamListener l = listener;
        if (l != null && !ended) {
            l.onUpstreamReadComplete();
        }
    }

    @Override
    public void reading(boolean on) {
        reading = on;
        if (on && !draining && held != null && !held.isEmpty()) {
            drain();
        }
    }

    /** Delivers held parts while the exchange reads, then returns their bytes to the flow-control windows. */
    private void drain() {
        draining = true;
        int consumed = 0;
        try {
            for (HttpObject part; reading && !ended && (part = held.poll()) != null; ) {
                if (part instanceof HttpContent c) {
                    consumed += c.content().readableBytes(); // before the exchange takes (and releases) it
                }
                listener.onResponse(part);
            }
        } finally {
            draining = false;
        }
        if (consumed > 0) {
            session.consume(stream, consumed);
        }
        readComplete();
    }

    /** The endpoint reset the stream. */
    void onReset(long errorCode) {
        fail(new IOException("upstream reset the stream: " + errorCode));
    }

    /**
     * The stream closed (both sides ended, reset either way, GOAWAY above its id, or the connection closed).
     * After a complete response that is the normal end (its parts may still be held for a slow client).
     */
    void onClosed(Throwable cause) {
        if (!responseEnded) {
            fail(cause);
        }
    }

    /** Ends the exchange's use of this stream with an error, once. */
    void fail(Throwable cause) {
        if (ended) {
            return;
        }
        UpstreamListener l = listener;
        end();
        if (l != null) {
            l.onUpstreamClosed(cause);
        }
    }

    // ---- the end

    @Override
    public void release(boolean reusable) {
        if (ended) {
            return;
        }
        Http2Stream s = stream;
        end();
        // Nothing to send when both sides ended. The exchange usually releases while it handles the response's
        // END_STREAM, before Netty closes the stream, so "the response ended" counts as the remote side closed:
        // a reset there would cost a frame per request and count against the server's rapid-reset budget.
        boolean bothEnded = s == null
                || s.state() == Http2Stream.State.CLOSED
                || (responseEnded && !s.state().localSideOpen());
        if (!bothEnded) {
            session.cancel(s); // RST_STREAM(CANCEL): a side is still open
        }
    }

    @Override
    public void abort() {
        release(false);
    }

    private void end() {
        ended = true;
        listener = null;
        if (held != null) {
            for (HttpObject part; (part = held.poll()) != null; ) {
                ReferenceCountUtil.release(part); // closing the stream returns their credit to the connection
            }
        }
        session.streamEnded();
    }
}
