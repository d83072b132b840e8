package io.ambit.waypoint.http2;

import io.ambit.hbone.server.Rfc9113Errors;
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
    private final Rfc9113Errors rfcErrors;
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
        this.rfcErrors = Rfc9113Errors.follow(connection());
        // Set on the outermost decoder, so the reset and empty-DATA limits wrap it.
        decoder.frameListener(new H2Listener(this));
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamHalfClosed(Http2Stream stream) {
                H2ServerStream s = stream.getProperty(streamKey);
                if (s != null) {
                    s.halfClosed(); // our END_STREAM went out, or the client's came in
                }
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
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
     * A stream error the decoder raised is answered as RFC 9113 answers it where Netty's answer differs
     * ({@link Rfc9113Errors}): frames on a stream we reset are dropped (the rest of an upload the client had in flight
     * when an early answer and its RST_STREAM reached it — answering each DATA frame with RST_STREAM, as Netty does,
     * would spend the reset budget that guards against Rapid Reset and end the connection with ENHANCE_YOUR_CALM); a
     * new stream below an opened one ends the connection (PROTOCOL_ERROR); HEADERS on a stream the client ended get
     * STREAM_CLOSED. The decoder has already counted a dropped DATA frame against the connection's window and
     * returned it.
     */
    @Override
    protected void onStreamError(
            ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception.StreamException http2Ex) {
        Http2Exception answer = rfcErrors.answer(http2Ex, outbound);
        if (answer instanceof Http2Exception.StreamException stream) {
            super.onStreamError(ctx, outbound, cause, stream);
        } else if (answer != null) {
            onConnectionError(ctx, outbound, cause, answer);
        }
    }

    /** A connection error's GOAWAY names the last stream opened ({@link Rfc9113Errors#withLastStreamKnown}). */
    @Override
    protected void onConnectionError(
            ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception http2Ex) {
        super.onConnectionError(ctx, outbound, cause, Rfc9113Errors.withLastStreamKnown(http2Ex));
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
