package io.ambit.hbone.server;

import io.ambit.hbone.stream.EarlyData;
import io.ambit.hbone.stream.FrameStream;
import io.ambit.hbone.stream.StreamTunnel;
import io.ambit.hbone.tls.TlsPeer;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CONNECT stream of a {@link DirectStreams} connection, read top to bottom as {@link ConnectStreamHandler} (same
 * checks, same answers): validate → ask the handler within the decision timeout → answer → relay ({@link
 * StreamTunnel}). Tunnel bytes that arrive before the answer are held (never parsed or forwarded before a 200,
 * CVE-2025-64763): the first {@code maxEarlyDataBytes} are read and credited back to the client as a child channel
 * would, the rest stay unconsumed, so the client's window stops it. Event-loop only.
 */
final class DirectStream implements FrameStream {
    private static final Logger log = LoggerFactory.getLogger(DirectStream.class);
    private static final AsciiString PROTOCOL = AsciiString.cached(":protocol");
    private static final Duration REJECT_LINGER = Duration.ofSeconds(5);

    private enum Phase {
        REQUEST,
        DECIDING,
        TUNNEL,
        /** Refused; what the client still sends is dropped until it ends the stream or the linger runs out. */
        REFUSED
    }

    final DirectStreams connection;
    final Http2FrameStream stream;
    private final CompletableFuture<Void> streamClosed = new CompletableFuture<>();
    private Phase phase = Phase.REQUEST;
    private EarlyData held; // created on the first early byte
    private ScheduledFuture<?> timer;
    private StreamTunnel tunnel;
    private boolean closed;

    DirectStream(DirectStreams connection, Http2FrameStream stream) {
        this.connection = connection;
        this.stream = stream;
        connection.counters.streamsOpen.increment();
        connection.meters.streamOpened(); // counted until onClosed
    }

    // Phase 1: is this a well-formed HBONE CONNECT?
    void onRequest(Http2HeadersFrame frame) {
        Http2Headers headers = frame.headers();
        if (frame.isEndStream()) {
            early().end();
        }
        String malformed = ConnectStreamHandler.malformed(headers);
        if (malformed != null) {
            refuseMalformed(malformed);
            return;
        }
        CharSequence method = headers.method();
        if (!AsciiString.contentEquals(method, "CONNECT")) {
            answer(ConnectResponse.reject(ConnectStatus.BAD_REQUEST, "method " + method + " is not CONNECT"));
            return;
        }
        Authority authority;
        try {
            authority = Authority.parse(headers.authority());
        } catch (IllegalArgumentException e) {
            answer(ConnectResponse.reject(ConnectStatus.BAD_REQUEST, e.getMessage()));
            return;
        }
        Channel channel = connection.ctx().channel();
        TlsPeer peer = TlsPeer.of(channel).orElse(null);
        if (peer == null) {
            answer(ConnectResponse.reject(ConnectStatus.SERVICE_UNAVAILABLE, "connection has no TLS peer"));
            return;
        }
        ConnectRequest request =
                ConnectRequest.of(peer, authority, headers, channel, stream.id(), channel.eventLoop(), streamClosed);
        log.debug("{} stream {} CONNECT {} from {}", channel, stream.id(), authority, peer.identity());
        decide(request);
    }

    /** HEADERS after the request: trailers; only their END_STREAM matters. */
    @Override
    public void onHeaders(Http2HeadersFrame frame) {
        if (frame.isEndStream()) {
            onEnd();
        }
    }

    @Override
    public void onData(Http2DataFrame data) {
        boolean end = data.isEndStream();
        switch (phase) {
            case TUNNEL -> tunnel.onData(data.content(), data.initialFlowControlledBytes());
            case REFUSED -> {
                connection.consume(stream, data.initialFlowControlledBytes());
                data.release();
            }
            default -> early().data(connection, data, connection.config.maxEarlyDataBytes());
        }
        if (end) {
            onEnd();
        }
    }

    private void onEnd() {
        switch (phase) {
            case TUNNEL -> tunnel.onInputEnd();
            case REFUSED -> {} // the stream closes: both sides ended
            default -> early().end();
        }
    }

    private EarlyData early() {
        if (held == null) {
            held = new EarlyData();
        }
        return held;
    }

    /** RST_STREAM from the client. */
    @Override
    public void onReset(long errorCode) {
        if (phase == Phase.TUNNEL) {
            tunnel.onReset(errorCode);
        }
    }

    /** A stream error the codec found (it answers it with RST_STREAM itself). */
    @Override
    public void onStreamError(Throwable cause) {
        if (phase == Phase.TUNNEL) {
            tunnel.onStreamError(cause);
        }
    }

    @Override
    public void onConnectionError(Throwable cause) {
        if (phase == Phase.TUNNEL) {
            tunnel.onConnectionError(cause);
        }
    }

    /** The stream is closed (both ends, a reset either way, or the connection went away). */
    @Override
    public void onClosed() {
        if (closed) {
            return;
        }
        closed = true;
        connection.counters.streamsOpen.decrement();
        connection.meters.streamClosed();
        streamClosed.complete(null);
        cancelTimer();
        dropHeld();
        if (tunnel != null) {
            tunnel.onStreamClosed();
        }
    }

    boolean isClosed() {
        return closed || stream.state() == Http2Stream.State.CLOSED;
    }

    @Override
    public StreamTunnel tunnel() {
        return tunnel;
    }

    /**
     * A malformed request is a stream error PROTOCOL_ERROR (RFC 9113 §8.1.1): a 400 first, then
     * RST_STREAM(PROTOCOL_ERROR), no linger (see {@link ConnectStreamHandler}).
     */
    private void refuseMalformed(String why) {
        phase = Phase.REFUSED;
        connection.counters.rejected.increment();
        log.debug("{} stream {} malformed request refused: {}", connection.ctx().channel(), stream.id(), why);
        dropHeld();
        Http2Headers headers = new DefaultHttp2Headers().status(Integer.toString(ConnectStatus.BAD_REQUEST.code()));
        connection.write(
                new DefaultHttp2HeadersFrame(headers, true).stream(stream),
                connection.ctx().voidPromise());
        connection.write(
                new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR).stream(stream),
                connection.ctx().voidPromise());
        connection.flush();
    }

    // Phase 2: ask the handler, asynchronously and within the decision timeout.
    private void decide(ConnectRequest request) {
        phase = Phase.DECIDING;
        var loop = connection.ctx().executor();
        timer = loop.schedule(
                () -> answer(ConnectResponse.reject(
                        ConnectStatus.SERVICE_UNAVAILABLE,
                        "no decision within " + connection.config.decisionTimeout())),
                connection.config.decisionTimeout().toNanos(),
                TimeUnit.NANOSECONDS);
        Decision.ask(connection.handler, request, loop, this::answer);
    }

    // Phase 3: answer, then relay. Late answers (after a timeout or a reset) are disposed of.
    private void answer(ConnectResponse response) {
        if (phase != Phase.DECIDING && phase != Phase.REQUEST || isClosed()) {
            if (response instanceof ConnectResponse.Tunnel t) {
                t.upstream().close();
            }
            return;
        }
        cancelTimer();
        switch (response) {
            case ConnectResponse.Reject reject -> refuse(reject);
            case ConnectResponse.Accept accept -> {
                // Handing a stream over needs a channel for it: such servers keep child channels (see DirectStreams).
                log.warn(
                        "stream {}: a handler answered Accept on a server with direct streams; refused 503",
                        stream.id());
                refuse((ConnectResponse.Reject)
                        ConnectResponse.reject(ConnectStatus.SERVICE_UNAVAILABLE, "no stream hand-over here"));
            }
            case ConnectResponse.Tunnel t -> {
                connection.counters.accepted.increment();
                phase = Phase.TUNNEL;
                connection.write(
                        new DefaultHttp2HeadersFrame(ok(t.headers()), false).stream(stream),
                        connection.ctx().voidPromise());
                connection.flush();
                tunnel = new StreamTunnel(
                        connection,
                        this,
                        stream,
                        t.upstream(),
                        t.onComplete(),
                        connection.config.http2().maxSendBuffer(),
                        true);
                tunnel.start(held);
                held = null;
            }
        }
    }

    /**
     * A refusal: our END_STREAM goes out, then the client gets a moment to end its side so the stream closes without
     * RST_STREAM either way (see {@link ConnectStreamHandler}); what it still sends is dropped.
     */
    private void refuse(ConnectResponse.Reject reject) {
        phase = Phase.REFUSED;
        connection.counters.rejected.increment();
        log.debug(
                "{} stream {} CONNECT refused {}: {}",
                connection.ctx().channel(),
                stream.id(),
                reject.status().code(),
                reject.reason());
        dropHeld();
        Http2Headers headers = new DefaultHttp2Headers()
                .status(Integer.toString(reject.status().code()));
        connection.write(
                new DefaultHttp2HeadersFrame(headers, true).stream(stream),
                connection.ctx().voidPromise());
        connection.flush();
        if (!isClosed()) {
            timer = connection.ctx().executor().schedule(this::reset, REJECT_LINGER.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Resets the stream (RST_STREAM CANCEL) unless it is closed already. */
    void reset() {
        if (!isClosed()) {
            connection.reset(stream);
        }
    }

    private void dropHeld() {
        if (held != null) {
            held.drop(connection, stream);
            held = null;
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private static Http2Headers ok(Map<String, String> extra) {
        Http2Headers headers = new DefaultHttp2Headers().status("200");
        extra.forEach((k, v) -> headers.add(k.toLowerCase(Locale.ROOT), v));
        return headers;
    }
}
