package io.ambit.hbone.pool;

import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.stream.EarlyData;
import io.ambit.hbone.stream.FrameStream;
import io.ambit.hbone.stream.StreamTunnel;
import io.ambit.hbone.tls.TlsPeer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CONNECT stream of a {@link DirectClientStreams} connection, read top to bottom as {@link ConnectResponseHandler}
 * plus the child channel's hold (same answers, same failures): wait for the answer → 200: hold what follows until the
 * caller relays ({@link DirectTunnel#relay}) → relay ({@link StreamTunnel}); another status fails with {@link
 * TunnelRejectedException}; a stream the server never processed (GOAWAY below it, REFUSED_STREAM) fails retryably.
 * Its pooled connection's stream slot is given back when the stream closes. Event-loop only.
 */
final class ClientStream implements FrameStream {
    private static final Logger log = LoggerFactory.getLogger(ClientStream.class);

    private enum Phase {
        ANSWER,
        /** Accepted; what the server sends is held until the caller relays. */
        HELD,
        TUNNEL,
        /** Refused or failed before a tunnel: what still arrives is dropped. */
        DONE
    }

    private final DirectClientStreams connection;
    private final PooledConnection pooled;
    private final String target;
    /** Dropped once completed: the answer (its headers) is the caller's, not kept for as long as the stream is open. */
    private CompletableFuture<DirectTunnel> answer;

    Http2FrameStream stream; // set by DirectClientStreams.open
    private Phase phase = Phase.ANSWER;
    private EarlyData held;
    private StreamTunnel tunnel;
    private boolean refused;
    private long resetCode = -1;
    private boolean closed;

    ClientStream(
            DirectClientStreams connection,
            PooledConnection pooled,
            String target,
            CompletableFuture<DirectTunnel> answer) {
        this.connection = connection;
        this.pooled = pooled;
        this.target = target;
        this.answer = answer;
        connection.meters.streamOpened(); // counted until onClosed
    }

    void onLoop(Runnable task) {
        if (connection.ctx().executor().inEventLoop()) {
            task.run();
        } else {
            connection.ctx().executor().execute(task);
        }
    }

    @Override
    public void onHeaders(Http2HeadersFrame frame) {
        if (phase != Phase.ANSWER) {
            if (frame.isEndStream()) {
                onEnd(); // trailers: only their END_STREAM matters
            }
            return;
        }
        Http2Headers headers = frame.headers();
        CharSequence status = headers.status();
        if (status != null && status.length() == 3 && status.charAt(0) == '1') {
            return; // informational; the real answer follows
        }
        int code = ConnectResponseHandler.parseStatus(status);
        if (code == 200) {
            phase = Phase.HELD;
            if (frame.isEndStream()) {
                early().end();
            }
            TlsPeer peer = TlsPeer.of(connection.ctx().channel()).orElseThrow();
            CompletableFuture<DirectTunnel> waiting = answer;
            answer = null;
            if (!waiting.complete(new DirectTunnel(this, headers, peer))) {
                abandon(); // nobody waits for it any more
            }
            return;
        }
        phase = Phase.DONE;
        fail(new TunnelRejectedException(code, target));
        if (frame.isEndStream()) {
            // End our side too, so the stream closes without a reset (resets count against the peer's rapid-reset
            // budget; refusals are normal traffic). HboneStreamCodec.END_STREAM's frame, written on the codec.
            connection.write(
                    new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true).stream(stream),
                    connection.ctx().voidPromise());
            connection.flush();
        } else {
            connection.reset(stream);
        }
    }

    @Override
    public void onData(Http2DataFrame data) {
        boolean end = data.isEndStream();
        switch (phase) {
            case TUNNEL -> tunnel.onData(data.content(), data.initialFlowControlledBytes());
            case HELD -> early().data(connection, data, connection.config.heldResponseBytes());
            default -> {
                // no tunnel bytes before the answer, nor after a refusal
                connection.consume(stream, data.initialFlowControlledBytes());
                data.release();
            }
        }
        if (end) {
            onEnd();
        }
    }

    private void onEnd() {
        switch (phase) {
            case TUNNEL -> tunnel.onInputEnd();
            case HELD -> early().end();
            default -> {}
        }
    }

    private EarlyData early() {
        if (held == null) {
            held = new EarlyData();
        }
        return held;
    }

    @Override
    public void onReset(long errorCode) {
        if (log.isDebugEnabled()) {
            log.debug("stream {} to {} reset {} in phase {}", stream.id(), target, errorCode, phase);
        }
        if (phase == Phase.TUNNEL) {
            tunnel.onReset(errorCode);
        } else {
            resetCode = errorCode;
            refused |= errorCode == Http2Error.REFUSED_STREAM.code();
        }
    }

    /** The server's GOAWAY names {@code lastStreamId}: a stream above it was never processed. */
    void goAway(int lastStreamId) {
        if (phase == Phase.ANSWER && stream.id() > lastStreamId) {
            refused = true;
        }
    }

    @Override
    public void onStreamError(Throwable cause) {
        switch (phase) {
            case TUNNEL -> tunnel.onStreamError(cause);
            case ANSWER -> fail(cause);
            default -> {} // the stream closes: a relay started later ends as RESET, as on a closed child channel
        }
    }

    @Override
    public void onConnectionError(Throwable cause) {
        switch (phase) {
            case TUNNEL -> tunnel.onConnectionError(cause);
            case ANSWER -> fail(cause);
            default -> {}
        }
    }

    @Override
    public void onClosed() {
        if (closed) {
            return;
        }
        closed = true;
        if (log.isDebugEnabled()) {
            log.debug("stream {} to {} closed in phase {}", stream == null ? -1 : stream.id(), target, phase);
        }
        connection.meters.streamClosed();
        pooled.release();
        switch (phase) {
            case ANSWER -> {
                phase = Phase.DONE;
                String how = resetCode >= 0 ? " (RST_STREAM " + resetCode + ")" : "";
                fail(
                        refused
                                ? new StreamRefusedException("HBONE server did not process CONNECT " + target + how)
                                : new IOException("HBONE stream closed before the answer to CONNECT " + target + how));
            }
            case HELD -> dropHeld();
            case TUNNEL -> tunnel.onStreamClosed();
            case DONE -> {}
        }
    }

    /** The CONNECT could not be written: {@code followed} when the connection follows the stream already. */
    void openFailed(Throwable cause, boolean followed) {
        fail(cause);
        if (followed) {
            connection.reset(stream); // its close comes back as an event
        } else {
            onClosed();
        }
    }

    private void fail(Throwable cause) {
        CompletableFuture<DirectTunnel> waiting = answer;
        if (waiting != null) {
            answer = null;
            waiting.completeExceptionally(cause);
        }
    }

    @Override
    public StreamTunnel tunnel() {
        return tunnel;
    }

    /** {@link DirectTunnel#relay}, on the connection's loop. */
    void relay(Channel socket, Consumer<RelayResult> onEnd) {
        if (phase != Phase.HELD) {
            throw new IllegalStateException("HBONE tunnel to " + target + " relayed twice or after giving it up");
        }
        phase = Phase.TUNNEL;
        tunnel = new StreamTunnel(
                connection,
                this,
                stream,
                socket,
                onEnd,
                connection.config.http2().maxSendBuffer(),
                false);
        if (closed) {
            // Reset or cut off before the relay: the socket is reset, as when a relay meets a closed stream channel.
            tunnel.start(null);
            tunnel.onStreamClosed();
            return;
        }
        EarlyData replay = held;
        held = null;
        tunnel.start(replay);
    }

    /** {@link DirectTunnel#reset}, on the connection's loop. */
    void abandon() {
        if (phase == Phase.HELD) {
            phase = Phase.DONE;
            dropHeld();
            connection.reset(stream);
        }
    }

    private void dropHeld() {
        if (held != null) {
            held.drop(connection, stream);
            held = null;
        }
    }
}
