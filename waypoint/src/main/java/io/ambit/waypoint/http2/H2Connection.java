package io.ambit.waypoint.http2;

import io.ambit.waypoint.ingress.Tunnel;
import io.ambit.waypoint.proxy.ProxyServices;
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
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client HTTP/2 connection inside a tunnel: Netty's connection handler (framing, HPACK, flow control,
 * stream states, the abuse limits) plus what the waypoint adds around it — the connection window opened to
 * the configured size, the end of the tunnel ending the connection, and the bookkeeping that ties each
 * Netty stream to its {@link H2ServerStream} (its close, its writability). Frames reach the streams through
 * {@link H2Listener}.
 */
final class H2Connection extends Http2ConnectionHandler {
    private static final Logger log = LoggerFactory.getLogger(H2Connection.class);

    private final Http2Connection.PropertyKey streamKey;
    private final ProxyServices services;
    private final Tunnel tunnel;
    private final int connectionWindow;
    private final StreamHistory history = new StreamHistory();
    private ChannelHandlerContext ctx;

    H2Connection(
            Http2ConnectionDecoder decoder,
            Http2ConnectionEncoder encoder,
            Http2Settings initialSettings,
            boolean decoupleCloseAndGoAway,
            boolean flushPreface,
            ProxyServices services,
            Tunnel tunnel,
            int connectionWindow) {
        super(decoder, encoder, initialSettings, decoupleCloseAndGoAway, flushPreface);
        this.services = services;
        this.tunnel = tunnel;
        this.connectionWindow = connectionWindow;
        this.streamKey = connection().newKey();
        // Set on the outermost decoder, so the reset and empty-DATA limits wrap it.
        decoder.frameListener(new H2Listener(this));
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamAdded(Http2Stream stream) {
                if (connection().remote().isValidStreamId(stream.id())) {
                    history.opened(stream.id());
                }
            }

            @Override
            public void onStreamHalfClosed(Http2Stream stream) {
                H2ServerStream s = stream.getProperty(streamKey);
                if (s != null) {
                    s.halfClosed(); // our END_STREAM went out, or the client's came in
                }
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                history.closed(stream.id(), stream.isResetSent());
                H2ServerStream s = stream.getProperty(streamKey);
                if (s != null) {
                    s.closed(); // a reset (either side) or the connection's end; a normal end is a no-op
                }
            }
        });
        connection().remote().flowController().listener(stream -> {
            H2ServerStream s = stream.getProperty(streamKey);
            if (s != null) {
                s.writabilityChanged();
            }
        });
    }

    // ---- what streams use

    ChannelHandlerContext ctx() {
        return ctx;
    }

    ProxyServices services() {
        return services;
    }

    Tunnel tunnel() {
        return tunnel;
    }

    /** The request stream of a Netty stream, or null (never opened by a HEADERS we served). */
    H2ServerStream serverStream(Http2Stream stream) {
        return stream == null ? null : stream.getProperty(streamKey);
    }

    void attach(Http2Stream stream, H2ServerStream s) {
        stream.setProperty(streamKey, s);
    }

    boolean isWritable(Http2Stream stream) {
        return encoder().flowController().isWritable(stream);
    }

    /** Returns {@code bytes} of flow-control credit to the client; true when a WINDOW_UPDATE was written. */
    boolean consume(Http2Stream stream, int bytes) {
        try {
            return decoder().flowController().consumeBytes(stream, bytes);
        } catch (Http2Exception e) {
            onError(ctx, false, e);
            return false;
        }
    }

    /**
     * Writes what the flow controller allows and flushes the tunnel, at once. (Deferring it to one flush per
     * loop turn was measured: no clear gain at saturation — 1.05x req/s, 0.99x CPU per request, median of 3
     * rounds — and a response then raced the close of a tunnel its client had ended.)
     */
    void flushNow() {
        flush(ctx);
    }

    /** Resets a stream (counted against the reset budget like any reset we send). */
    void reset(Http2Stream stream, Http2Error error) {
        // What the stream's exchange wrote may still wait in flow control: send what the window allows
        // first, a reset discards whatever is still queued (an answer ahead of the reset must arrive).
        flush(ctx);
        encoder().writeRstStream(ctx, stream.id(), error.code(), ctx.newPromise());
        flush(ctx);
    }

    // ---- lifecycle

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx); // sends our SETTINGS: the tunnel is already active
        // The initial SETTINGS cannot change the connection window (RFC 9113 6.9.2): open it with a
        // WINDOW_UPDATE, so several streams can send at once.
        Http2Stream connectionStream = connection().connectionStream();
        int increment = connectionWindow - decoder().flowController().initialWindowSize(connectionStream);
        if (increment > 0 && ctx.channel().isActive()) {
            decoder().flowController().incrementWindowSize(connectionStream, increment);
            flush(ctx);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        super.userEventTriggered(ctx, evt); // decodes what is left, then passes the event on
        if (evt instanceof ChannelInputShutdownEvent) {
            endStreamsTheClientCannotFinish();
            // The HTTP/2 connection cannot outlive its transport: GOAWAY, then close once the streams in
            // flight are answered (through this handler's close, hence the channel's close, not ctx's).
            ctx.channel().close();
        }
    }

    /**
     * The client ended the tunnel (its FIN) with requests still open on its side: no END_STREAM can come for
     * them any more, so they end now as downstream terminations ({@code DC}) — as HTTP/1.1 does for a FIN
     * mid-body — instead of holding the graceful close until a timeout. Streams whose request is complete
     * (half-closed by the client) are still answered.
     */
    private void endStreamsTheClientCannotFinish() {
        List<Http2Stream> unfinished = new ArrayList<>();
        try {
            connection().forEachActiveStream(stream -> {
                if (stream.state().remoteSideOpen()) {
                    unfinished.add(stream);
                }
                return true;
            });
        } catch (Http2Exception cannotHappen) {
            throw new IllegalStateException(cannotHappen); // the visitor above throws nothing
        }
        for (Http2Stream stream : unfinished) {
            H2ServerStream s = serverStream(stream);
            if (s != null) {
                s.clientCannotFinish();
            } else {
                reset(stream, Http2Error.CANCEL);
            }
        }
    }

    /**
     * A frame for a stream that no longer exists (Netty raises STREAM_CLOSED for all of them) is answered as RFC 9113
     * answers it, by what became of the stream ({@link StreamHistory}):
     * <ul>
     *   <li>we reset it: dropped without an answer (§5.1 "MUST ignore"). Typically the rest of an upload the client
     *       had in flight when an early answer and its RST_STREAM reached it; answering each such DATA frame with
     *       RST_STREAM, as Netty does, would make a 1 MiB upload denied early 64 resets, and three of them spend the
     *       reset budget that guards against Rapid Reset, ending the whole connection with ENHANCE_YOUR_CALM;
     *   <li>never opened, its id below one the client already used: connection error PROTOCOL_ERROR (§5.1.1; h2spec
     *       http2/5.1.1-2);
     *   <li>the client reset it or both sides ended it: RST_STREAM(STREAM_CLOSED), Netty's answer (§5.1; h2spec
     *       http2/5.1-8, 5.1-9, 5.1-11, 5.1-12 — they were dropped silently before).
     * </ul>
     * The decoder has already counted a DATA frame against the connection's window and returned it.
     */
    @Override
    protected void onStreamError(
            ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception.StreamException http2Ex) {
        int id = http2Ex.streamId();
        if (!outbound
                && http2Ex.error() == Http2Error.STREAM_CLOSED
                && connection().stream(id) == null
                && connection().streamMayHaveExisted(id)) {
            switch (history.fate(id)) {
                case RESET_BY_US -> {
                    return;
                }
                case NEVER_OPENED -> {
                    onConnectionError(
                            ctx,
                            false,
                            cause,
                            Http2Exception.connectionError(
                                    Http2Error.PROTOCOL_ERROR,
                                    "stream %d is below a stream already opened and was never opened",
                                    id));
                    return;
                }
                case CLOSED, UNKNOWN -> {}
            }
        }
        if (!outbound && isHeadersOnHalfClosedRemote(http2Ex)) {
            http2Ex = (Http2Exception.StreamException)
                    Http2Exception.streamError(id, Http2Error.STREAM_CLOSED, http2Ex, "%s", http2Ex.getMessage());
        }
        super.onStreamError(ctx, outbound, cause, http2Ex);
    }

    /**
     * Whether Netty refused a HEADERS frame on a stream the client had already ended. RFC 9113 §5.1 answers any frame
     * but WINDOW_UPDATE, PRIORITY and RST_STREAM on a half-closed (remote) stream with STREAM_CLOSED; Netty answers a
     * HEADERS there with PROTOCOL_ERROR ("too many headers": it counts the HEADERS that opened the stream with
     * END_STREAM twice, once in {@code DefaultHttp2Connection.activate} and once in the decoder). Caught by h2spec
     * http2/5.1-6. Netty's message is the only thing telling this refusal apart from a legitimate PROTOCOL_ERROR on the
     * same stream (a zero WINDOW_UPDATE increment, a self-dependent PRIORITY).
     */
    private boolean isHeadersOnHalfClosedRemote(Http2Exception.StreamException e) {
        Http2Stream stream = connection().stream(e.streamId());
        return e.error() == Http2Error.PROTOCOL_ERROR
                && stream != null
                && stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE
                && e.getMessage() != null
                && e.getMessage().contains("received too many headers");
    }

    /**
     * A connection error's GOAWAY names the last stream we actually opened, so the client knows the streams above it
     * were not processed and may be retried (RFC 9113 §6.8; h2spec http2/5.4.1-2). Netty names 2^31-1 for errors it
     * marks as hard shutdowns (frame and HPACK errors, which can strike before the stream is created: netty#10670) —
     * but a stream whose HEADERS failed to decode was never created, never processed, so the last created one is
     * the truth here too. The connection still closes at once, as for a hard shutdown.
     */
    @Override
    protected void onConnectionError(
            ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception http2Ex) {
        if (http2Ex != null && http2Ex.shutdownHint() == Http2Exception.ShutdownHint.HARD_SHUTDOWN) {
            http2Ex = new Http2Exception(
                    http2Ex.error(), http2Ex.getMessage(), http2Ex, Http2Exception.ShutdownHint.NO_SHUTDOWN);
        }
        super.onConnectionError(ctx, outbound, cause, http2Ex);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            super.exceptionCaught(ctx, cause); // protocol errors: RST_STREAM or GOAWAY with the right code
            return;
        }
        log.debug("HTTP/2 connection in tunnel from {} failed", tunnel.peer().identity(), cause);
        ctx.channel().close();
    }
}
