package io.ambit.waypoint.route;

import io.ambit.hbone.server.TraceParent;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * An HTTP/2 connection to one endpoint inside an HBONE tunnel, shared by the requests of one event loop, each
 * a stream — and each stream just an {@link H2Upstream} object: no child channel, no pipeline, no HTTP/2 ↔
 * HTTP/1 codec per request (that machinery was most of the waypoint's HTTP/2 CPU). This handler is the whole
 * connection: Netty's HTTP/2 state machine, flow control and HPACK (it extends {@link Http2ConnectionHandler}),
 * plus what the waypoint needs on top: how many streams it may carry, when it retires, the read batches.
 *
 * <p>Lifecycle: usable once the server's first SETTINGS arrived ({@link #ready()}; its stream limit is known
 * then, so a burst never opens streams the server would refuse), at most {@code min(maxStreams, server's
 * SETTINGS_MAX_CONCURRENT_STREAMS)} streams at once, retired by GOAWAY (no new streams; it closes when its last
 * stream ends), closed after the idle timeout without streams, or when the tunnel's input ends.
 *
 * <p>Closing is graceful on the wire: GOAWAY, then the tunnel's END_STREAM ({@code TunnelCloser}, ahead of this
 * handler), so the endpoint's node half-closes the app's connection (a FIN after the GOAWAY) and the tunnel
 * closes once the app ended its side too. A plain close of the tunnel would be a RST_STREAM, which the node
 * turns into a TCP reset that also drops the GOAWAY.
 */
final class H2Session extends Http2ConnectionHandler {
    /** What a stream's upstream is, on Netty's stream object. */
    private final Http2Connection.PropertyKey upstreamKey;

    private final LoopUpstreams owner;
    private final UpstreamKey key;
    private final int configuredMaxStreams;
    private final int streamWindow;
    private final long idleTimeoutNanos;
    private final long settingsTimeoutNanos;
    private final Deadlines deadlines;
    private final CompletableFuture<H2Session> ready = new CompletableFuture<>();
    /** Upstreams that got response parts in the current read batch: told when it ends. */
    private final ArrayList<H2Upstream> readBatch = new ArrayList<>();

    private final Deadlines.Entry idleTimer = new Deadlines.Entry() {
        @Override
        protected void expired() {
            if (active == 0 && ctx != null) {
                retire(); // no new stream may pick it while its tunnel ends
            }
        }
    };
    private final Deadlines.Entry settingsTimer = new Deadlines.Entry() {
        @Override
        protected void expired() {
            fail(new IOException("no HTTP/2 SETTINGS from the upstream within " + Duration.ofNanos(settingsTimeoutNanos)
                    + " (is the endpoint an HTTP/2 server?)"));
        }
    };

    private ChannelHandlerContext ctx;
    private int maxStreams;
    private int active;
    private boolean retired;
    private boolean inputEnded;
    private IOException closeCause = new IOException("upstream connection closed");

    H2Session(
            Http2ConnectionDecoder decoder,
            Http2ConnectionEncoder encoder,
            Http2Settings initialSettings,
            boolean decoupleCloseAndGoAway,
            boolean flushPreface,
            LoopUpstreams owner,
            UpstreamKey key,
            RouteConfig config,
            Deadlines deadlines) {
        super(decoder, encoder, initialSettings, decoupleCloseAndGoAway, flushPreface);
        this.owner = owner;
        this.key = key;
        this.configuredMaxStreams = config.maxStreamsPerConnection();
        Integer window = initialSettings.initialWindowSize();
        this.streamWindow = window == null ? Http2CodecUtil.DEFAULT_WINDOW_SIZE : window;
        this.maxStreams = configuredMaxStreams;
        this.idleTimeoutNanos = config.upstreamIdleTimeout().toNanos();
        this.settingsTimeoutNanos = config.connectTimeout().toNanos();
        this.deadlines = deadlines;
        this.upstreamKey = connection().newKey();
        decoder.frameListener(new H2Frames(this));
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                H2Upstream u = stream.getProperty(upstreamKey);
                if (u != null) {
                    // Above the last stream id of the server's GOAWAY: the server never processed it (RFC 9113 §6.8).
                    Http2Connection c = connection();
                    boolean refused =
                            c.goAwayReceived() && stream.id() > c.local().lastStreamKnownByPeer();
                    u.onClosed(closeCause, refused);
                }
            }

            @Override
            public void onGoAwayReceived(int lastStreamId, long errorCode, ByteBuf debugData) {
                // Before Netty closes the streams above lastStreamId: they fail with this cause.
                closeCause = new IOException(
                        "upstream sent GOAWAY (last stream " + lastStreamId + ", error " + errorCode + ")");
                retire();
            }
        });
        connection().remote().flowController().listener(stream -> {
            H2Upstream u = stream.getProperty(upstreamKey);
            if (u != null && encoder().flowController().isWritable(stream)) {
                u.writable();
            }
        });
    }

    UpstreamKey key() {
        return key;
    }

    Channel tunnel() {
        return ctx.channel();
    }

    /** Completes (on the loop) when the server's first SETTINGS arrived; fails if the connection ends first. */
    CompletableFuture<H2Session> ready() {
        return ready;
    }

    /** Whether a new stream may start on it now. */
    boolean hasCapacity() {
        return !retired
                && ready.isDone()
                && active < maxStreams
                && ctx.channel().isActive();
    }

    /** Streams it may carry at once (the server's limit, at most the configured one). */
    int maxStreams() {
        return maxStreams;
    }

    /** Not retired, not closed. */
    boolean live() {
        return !retired && ctx.channel().isActive();
    }

    /**
     * A stream for one request (started when its head is written).
     *
     * @param trace the traceparent of a tunnel dialed for the request's retry, if it needs one
     */
    H2Upstream open(Supplier<TraceParent> trace) {
        reserve();
        return new H2Upstream(this, owner, trace);
    }

    /** Counts a stream in before it is opened (a request's, or a refused request's retry). */
    void reserve() {
        active++;
        deadlines.cancel(idleTimer);
    }

    /** Forgets which upstream {@code stream} served (a refused request moved on to another stream). */
    void detach(Http2Stream stream) {
        stream.removeProperty(upstreamKey);
    }

    EventExecutor executor() {
        return ctx.executor();
    }

    /** An upstream of this session is over (released, aborted or failed). */
    void streamEnded() {
        active--;
        if (active == 0) {
            if (retired) {
                ctx.channel().close();
            } else if (ctx.channel().isActive()) {
                deadlines.arm(idleTimer, idleTimeoutNanos);
            }
        }
    }

    // ---- writing, for H2Upstream

    /**
     * Opens the stream and writes the request's HEADERS, or returns null and fails {@code u} (after this call:
     * the exchange is still inside its write) when the connection cannot take a stream any more.
     */
    Http2Stream startStream(H2Upstream u, Http2Headers headers, boolean endStream) {
        Http2Connection c = connection();
        IOException refused = null;
        if (!ctx.channel().isActive()) {
            refused = closeCause;
        } else if (c.goAwayReceived()) {
            refused = closeCause;
        } else if (!c.local().canOpenStream()) {
            refused = new IOException("the upstream connection has no room for another stream");
        }
        Http2Stream stream = null;
        if (refused == null) {
            int id = c.local().incrementAndGetNextStreamId();
            try {
                stream = id > 0 ? c.local().createStream(id, false) : null;
            } catch (Http2Exception e) {
                refused = new IOException("the upstream connection refused a new stream: " + e.getMessage(), e);
            }
            if (stream == null && refused == null) {
                retire(); // stream ids exhausted: a new connection takes over
                refused = new IOException("the upstream connection ran out of stream ids");
            }
        }
        if (stream == null) {
            IOException cause = refused;
            ctx.executor().execute(() -> u.refusedBeforeStart(cause)); // nothing was sent: it may be retried
            return null;
        }
        stream.setProperty(upstreamKey, u);
        encoder().writeHeaders(ctx, stream.id(), headers, 0, endStream, ctx.voidPromise());
        // Flushed even when a body follows: it may follow much later (a slow upload), or only after the response
        // headers (a gRPC client streaming on demand), and the server needs the request's head to answer.
        flush(ctx);
        return stream;
    }

    void writeData(Http2Stream stream, ByteBuf data, boolean endStream) {
        encoder().writeData(ctx, stream.id(), data, 0, endStream, ctx.voidPromise());
    }

    void writeTrailers(Http2Stream stream, Http2Headers trailers) {
        encoder().writeHeaders(ctx, stream.id(), trailers, 0, true, ctx.voidPromise());
    }

    /** Sends what the flow controller allows now (a request part is written and flushed, as HTTP/1.1's). */
    void flushNow() {
        flush(ctx);
    }

    boolean isWritable(Http2Stream stream) {
        return encoder().flowController().isWritable(stream);
    }

    /** Ends a stream the exchange gave up while a side was still open. */
    void cancel(Http2Stream stream) {
        resetStream(ctx, stream.id(), Http2Error.CANCEL.code(), ctx.voidPromise());
        flush(ctx);
    }

    /** Returns {@code bytes} of delivered response DATA to the stream's and the connection's windows. */
    void consume(Http2Stream stream, int bytes) {
        if (stream.state() == Http2Stream.State.CLOSED) {
            return; // closing returned them already
        }
        try {
            if (decoder().flowController().consumeBytes(stream, bytes)) {
                flush(ctx); // a WINDOW_UPDATE was written
            }
        } catch (Http2Exception e) {
            onError(ctx, true, e);
        }
    }

    // ---- reading, from H2Frames

    H2Upstream upstream(int streamId) {
        Http2Stream stream = connection().stream(streamId);
        return stream == null ? null : stream.getProperty(upstreamKey);
    }

    void readBatch(H2Upstream u) {
        if (!u.inReadBatch) {
            u.inReadBatch = true;
            readBatch.add(u);
        }
    }

    void onSettings(Http2Settings settings) {
        Long max = settings.maxConcurrentStreams();
        if (max != null) {
            maxStreams = (int) Math.min(configuredMaxStreams, max);
        }
        if (!ready.isDone()) {
            deadlines.cancel(settingsTimer);
            ready.complete(this); // the requests that waited for it open their streams now
            if (active == 0 && !retired) {
                deadlines.arm(idleTimer, idleTimeoutNanos); // they all gave up meanwhile
            }
        }
    }

    /** No new streams; the connection closes when its last stream ends. */
    void retire() {
        if (!retired) {
            retired = true;
            owner.removeSession(this);
            if (active == 0 && ctx != null) {
                ctx.channel().close();
            }
        }
    }

    // ---- the channel

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx); // sends the preface and our SETTINGS (the tunnel is already active)
        if (ctx.channel().isActive()) {
            // SETTINGS_INITIAL_WINDOW_SIZE covers streams only: widen the connection's window too, to twice a
            // stream's (as Netty's Http2FrameCodec does), so one stream alone cannot stall the others.
            // (From the SETTINGS we send: the decoder's local settings are still the defaults until acknowledged.)
            Http2Stream connectionStream = connection().connectionStream();
            int delta = streamWindow - decoder().flowController().initialWindowSize(connectionStream);
            if (delta > 0) {
                decoder().flowController().incrementWindowSize(connectionStream, delta * 2);
                flush(ctx);
            }
        }
        deadlines.arm(settingsTimer, settingsTimeoutNanos);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        // Each upstream that got parts in this batch lets its exchange flush them: one write per client per batch.
        for (int i = 0; i < readBatch.size(); i++) {
            H2Upstream u = readBatch.get(i);
            u.inReadBatch = false;
            u.readComplete();
        }
        readBatch.clear();
        super.channelReadComplete(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        boolean inputShutdown = evt instanceof ChannelInputShutdownEvent;
        super.userEventTriggered(ctx, evt); // the decoder reads what is left first
        if (inputShutdown) {
            // The tunnel ended (the app closed its connection): no stream can complete any more. Closed from
            // here, below this handler: no GOAWAY and no graceful wait for streams that cannot finish.
            inputEnded = true;
            ctx.close();
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, io.netty.channel.ChannelPromise promise) throws Exception {
        if (inputEnded) {
            ctx.close(promise); // no GOAWAY and graceful wait for streams that cannot finish
            return;
        }
        super.close(ctx, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        retired = true;
        deadlines.cancel(idleTimer);
        deadlines.cancel(settingsTimer);
        owner.removeSession(this);
        ready.completeExceptionally(closeCause);
        super.channelInactive(ctx); // closes every stream: their upstreams fail with closeCause
    }

    @Override
    protected void onStreamError(
            ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception.StreamException http2Ex) {
        H2Upstream u = upstream(http2Ex.streamId());
        if (u != null) {
            u.fail(new IOException("upstream stream error: " + http2Ex.getMessage(), cause));
        }
        super.onStreamError(ctx, outbound, cause, http2Ex);
    }

    @Override
    protected void onConnectionError(
            ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception http2Ex) {
        closeCause = new IOException("upstream connection error: " + (http2Ex != null ? http2Ex : cause), cause);
        super.onConnectionError(ctx, outbound, cause, http2Ex);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Whatever failed (the tunnel's transport, a write), the connection cannot be trusted any more: a connection
        // error closes it with GOAWAY, and its streams fail.
        onError(ctx, false, cause);
    }

    private void fail(IOException cause) {
        closeCause = cause;
        ready.completeExceptionally(cause);
        retired = true;
        owner.removeSession(this);
        ctx.channel().close();
    }
}
