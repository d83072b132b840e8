package io.ambit.waypoint.route;

import io.ambit.hbone.server.TraceParent;
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
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.function.Supplier;

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
 *
 * <p>Refused streams are retried: a stream the server refused — RST_STREAM(REFUSED_STREAM), or above the last
 * stream id of its GOAWAY, or never sent because the session could no longer open it — was not processed by the
 * server (RFC 9113 §8.7), so the request may go again, whatever its method. It goes once more, on another session
 * of the same endpoint (a new one if none has room), transparently for the exchange: one request, one outcome. That
 * needs the request again: its HEADERS, and every body byte sent so far — kept until the response's HEADERS arrive,
 * up to {@link #MAX_KEPT_BYTES} (beyond, the request is not replayable and a refusal fails it as
 * {@link Upstream.Refused}, which the exchange answers 503 {@code UR}). A bodiless request keeps only its headers.
 */
final class H2Upstream implements Upstream {
    /** Body bytes kept for a retry (the client's stream window: what it may send before we read). */
    static final int MAX_KEPT_BYTES = 64 * 1024;

    private final LoopUpstreams owner;
    private final Supplier<TraceParent> trace;
    private H2Session session; // another one after a retry
    private boolean reserved = true; // counted in session's streams (from open() until it leaves it)
    private UpstreamListener listener;
    private Http2Stream stream; // from the request's HEADERS on; null again while a refused request waits to retry
    private Http2Headers requestHead; // kept for a retry until the response's HEADERS arrive
    private boolean headEndsStream;
    private ArrayDeque<HttpContent> kept; // body parts sent (or waiting to be sent) that a retry sends again
    private int keptBytes;
    private boolean replayable = true; // everything sent so far is kept
    private boolean headWritten;
    private boolean retried;
    private boolean responseHeadSeen;
    private ArrayDeque<HttpObject> held; // response parts withheld while the exchange does not read
    private boolean reading = true;
    private boolean draining;
    private boolean finalHeadSeen;
    private boolean responseEnded;
    private boolean ended;
    /** Set while the session's current read batch delivered to it (see {@link H2Session#readBatch}). */
    boolean inReadBatch;

    H2Upstream(H2Session session, LoopUpstreams owner, Supplier<TraceParent> trace) {
        this.session = session;
        this.owner = owner;
        this.trace = trace;
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
            if (headWritten) {
                ReferenceCountUtil.release(part); // one head per stream; the exchange never sends two
                return;
            }
            boolean bodyless = head instanceof LastHttpContent last
                    && !last.content().isReadable()
                    && last.trailingHeaders().isEmpty();
            headWritten = true;
            requestHead = H2Messages.request(head);
            headEndsStream = bodyless;
            stream = session.startStream(this, requestHead, bodyless);
            if (bodyless || !(head instanceof HttpContent)) {
                ReferenceCountUtil.release(part); // nothing left of it (a refusal is reported after this call)
                return;
            }
        }
        if (!(part instanceof HttpContent body)) {
            return;
        }
        if (stream == null) {
            keep(body); // refused before it was sent, or waiting for the retry's stream
            return;
        }
        if (!stream.state().localSideOpen()) {
            body.release(); // the request already ended: nothing more goes up
            return;
        }
        if (replayable && !retried && !responseHeadSeen) {
            keep(copyOf(body)); // what a retry would send again
        }
        send(body);
        session.flushNow();
    }

    /** Writes a body part on the stream; the encoder owns (and releases) its content. */
    private void send(HttpContent body) {
        boolean last = body instanceof LastHttpContent;
        HttpHeaders trailers = last ? ((LastHttpContent) body).trailingHeaders() : null;
        boolean withTrailers = trailers != null && !trailers.isEmpty();
        ByteBuf data = body.content();
        if (data.isReadable() || (last && !withTrailers)) {
            session.writeData(stream, data, last && !withTrailers);
        } else {
            data.release();
        }
        if (withTrailers) {
            session.writeTrailers(stream, H2Messages.trailers(trailers));
        }
    }

    /** A part with the same bytes (a retained duplicate: no copy) and trailers, for a retry. */
    private static HttpContent copyOf(HttpContent body) {
        ByteBuf same = body.content().retainedDuplicate();
        return body instanceof LastHttpContent last
                ? new DefaultLastHttpContent(same, last.trailingHeaders())
                : new DefaultHttpContent(same);
    }

    /** Keeps {@code part} for a retry, or, past the bound, gives up on replaying (and releases what was kept). */
    private void keep(HttpContent part) {
        int bytes = part.content().readableBytes();
        if (!replayable || keptBytes + bytes > MAX_KEPT_BYTES) {
            part.release();
            forgetRequest();
            replayable = false;
            return;
        }
        if (kept == null) {
            kept = new ArrayDeque<>(2);
        }
        kept.add(part);
        keptBytes += bytes;
    }

    /** The request will not be sent again: what was kept for it goes. */
    private void forgetRequest() {
        requestHead = null;
        if (kept != null) {
            for (HttpContent c; (c = kept.poll()) != null; ) {
                c.release();
            }
        }
        keptBytes = 0;
    }

    @Override
    public boolean isWritable() {
        if (stream == null) {
            // Before the head, the tunnel decides; while a refused request waits for its retry, nothing more is
            // asked of the client (what arrives meanwhile is kept): writable again once the retry is under way.
            return !headWritten && session.tunnel().isWritable();
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
        if (!responseHeadSeen) {
            responseHeadSeen = true; // the server processes the request: it will not be sent again
            forgetRequest();
        }
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
        if (errorCode == Http2Error.REFUSED_STREAM.code() && !responseHeadSeen) {
            refused(new Refused("the upstream refused the stream (REFUSED_STREAM)"));
        } else {
            fail(new IOException("upstream reset the stream: " + errorCode));
        }
    }

    /**
     * The stream closed (both sides ended, reset either way, GOAWAY above its id, or the connection closed).
     * After a complete response that is the normal end (its parts may still be held for a slow client).
     *
     * @param refusedByGoaway the server's GOAWAY named a last stream below this one: it was not processed
     */
    void onClosed(Throwable cause, boolean refusedByGoaway) {
        if (responseEnded) {
            return;
        }
        if (refusedByGoaway && !responseHeadSeen) {
            refused(new Refused(cause.getMessage() + ": the stream was not processed"));
        } else {
            fail(cause);
        }
    }

    /** The session could not open the stream (GOAWAY received, no room, ids exhausted): nothing was sent. */
    void refusedBeforeStart(IOException cause) {
        refused(new Refused(cause.getMessage()));
    }

    /**
     * The server did not process the request: send it again, once, on another session — when it can be sent
     * again (everything sent so far kept) and the exchange still wants it; else the exchange hears the refusal.
     */
    private void refused(Refused cause) {
        if (ended) {
            return;
        }
        if (retried || !replayable || responseHeadSeen || listener == null) {
            fail(cause);
            return;
        }
        retried = true;
        H2Session refusedBy = session;
        if (stream != null) {
            refusedBy.detach(stream); // its close (now or later) is no longer this request's business
            stream = null;
        }
        reserved = false;
        // Out of the frame or GOAWAY being handled: leaving the session may close it (a retired one).
        refusedBy.executor().execute(() -> {
            refusedBy.streamEnded();
            if (ended) {
                return; // the exchange gave up meanwhile
            }
            owner.reserveForRetry(refusedBy.key(), refusedBy, trace).whenComplete((s, error) -> {
                if (ended) {
                    if (s != null) {
                        s.streamEnded();
                    }
                } else if (error != null) {
                    fail(new Refused(cause.getMessage() + "; the retry found no session: " + error.getMessage()));
                } else {
                    resend(s);
                }
            });
        });
    }

    /** The retry: the kept request on a stream of {@code s} (a slot of which is reserved for it). */
    private void resend(H2Session s) {
        session = s;
        reserved = true;
        if (!replayable) {
            // What the client sent while the retry waited went past what is kept: the request cannot be whole.
            fail(new Refused("the upstream refused the stream, and the request's body was not kept for a retry"));
            return;
        }
        stream = s.startStream(this, requestHead, headEndsStream);
        if (stream == null) {
            return; // refused again, reported after this call: the exchange hears it then
        }
        if (kept != null) {
            for (HttpContent part; (part = kept.poll()) != null; ) {
                if (stream.state().localSideOpen()) {
                    send(part);
                } else {
                    part.release();
                }
            }
        }
        forgetRequest();
        s.flushNow();
        UpstreamListener l = listener;
        if (l != null && isWritable()) {
            l.onUpstreamWritable(); // the client's body flows again
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
        forgetRequest();
        if (reserved) {
            reserved = false;
            session.streamEnded();
        }
    }
}
