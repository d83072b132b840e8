package io.ambit.hbone.server;

import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * The answers RFC 9113 gives to the frames Netty's HTTP/2 decoder refuses on a server connection, where Netty's own
 * answer differs; shared by the HBONE server's codec and the waypoint's HTTP/2 server, which call
 * {@link #answer} from their stream-error path and {@link #withLastStreamKnown} from their connection-error path.
 * Each rule was caught by a case of the conformance suite ({@code conformance/h2/CASES.md}):
 * <ul>
 *   <li>a frame for a stream we reset: dropped without an answer (§5.1: "MUST ignore frames that it receives on closed
 *       streams after it has sent a RST_STREAM frame"). Netty answers each with RST_STREAM(STREAM_CLOSED), and a
 *       stream window of DATA in flight would spend the reset budget that guards against Rapid Reset;
 *   <li>HEADERS for a new stream whose id is below one the client already opened: connection error PROTOCOL_ERROR
 *       (§5.1.1; h2spec http2/5.1.1-2). Netty answers RST_STREAM(STREAM_CLOSED), "the lesser of two errors", because it
 *       cannot tell such an id from a closed stream's; the history of recent streams here can;
 *   <li>HEADERS on a stream the client had ended: STREAM_CLOSED (§5.1; h2spec http2/5.1-6). Netty counts the HEADERS
 *       that opened a stream with END_STREAM twice ({@code DefaultHttp2Connection.activate} and the decoder) and
 *       answers a further one "too many headers" (PROTOCOL_ERROR);
 *   <li>a connection error's GOAWAY names the last stream opened (§6.8; h2spec http2/5.4.1-2), not 2^31-1.
 * </ul>
 * Frames for streams closed any other way (the client reset it, or both sides ended it) keep Netty's
 * RST_STREAM(STREAM_CLOSED) (§5.1).
 *
 * <p>Memory: the ids of the last {@value #REMEMBERED} streams the client opened and whether each ended by our reset,
 * allocated with the first stream (about 1.3 KiB per connection). A client opens its streams with increasing ids, so
 * the ring is sorted and searched in halves. Event-loop confined, like the connection it listens to.
 */
public final class Rfc9113Errors {
    static final int REMEMBERED = 256;

    /** What became of a client stream that Netty no longer tracks. */
    enum Fate {
        RESET_BY_US,
        CLOSED,
        NEVER_OPENED,
        UNKNOWN
    }

    private final Http2Connection connection;
    private int[] ids; // ring, ascending from `start`
    private boolean[] resetByUs;
    private int start;
    private int size;
    private boolean forgot; // the ring wrapped: ids below its oldest are no longer known

    private Rfc9113Errors(Http2Connection connection) {
        this.connection = connection;
    }

    /** Starts following the streams of a server connection (before its first stream). */
    public static Rfc9113Errors follow(Http2Connection connection) {
        Rfc9113Errors errors = new Rfc9113Errors(connection);
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamAdded(Http2Stream stream) {
                if (connection.remote().isValidStreamId(stream.id())) {
                    errors.opened(stream.id());
                }
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                errors.closed(stream.id(), stream.isResetSent());
            }
        });
        return errors;
    }

    /**
     * The answer to a stream error the decoder raised: {@code e} itself (Netty's answer is right), another stream
     * error, a connection error, or null when the frame is to be dropped without an answer.
     */
    public Http2Exception answer(Http2Exception.StreamException e, boolean outbound) {
        if (outbound) {
            return e;
        }
        int id = e.streamId();
        Http2Stream stream = connection.stream(id);
        if (e.error() == Http2Error.STREAM_CLOSED && stream == null && connection.streamMayHaveExisted(id)) {
            return switch (fate(id)) {
                case RESET_BY_US -> null;
                case NEVER_OPENED ->
                    Http2Exception.connectionError(
                            Http2Error.PROTOCOL_ERROR,
                            "stream %d is below a stream already opened and was never opened",
                            id);
                case CLOSED, UNKNOWN -> e;
            };
        }
        if (e.error() == Http2Error.PROTOCOL_ERROR
                && stream != null
                && stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE
                && e.getMessage() != null
                // Netty's message is all that tells this refusal apart from a legitimate PROTOCOL_ERROR on the same
                // stream (a zero WINDOW_UPDATE increment, a self-dependent PRIORITY).
                && e.getMessage().contains("received too many headers")) {
            return Http2Exception.streamError(id, Http2Error.STREAM_CLOSED, e, "%s", e.getMessage());
        }
        return e;
    }

    /**
     * {@code e}, or when Netty would end the connection naming stream 2^31-1 in its GOAWAY (a hard shutdown: frame
     * and HPACK errors, which can strike before a stream is created, netty#10670), the same error ending it naming the
     * last stream opened. A stream whose HEADERS failed to decode was never created, never processed, so the last
     * created one is the truth, and it tells the client what it may retry. The connection still closes at once.
     */
    public static Http2Exception withLastStreamKnown(Http2Exception e) {
        if (e == null || e.shutdownHint() != Http2Exception.ShutdownHint.HARD_SHUTDOWN) {
            return e;
        }
        return new Http2Exception(e.error(), e.getMessage(), e, Http2Exception.ShutdownHint.NO_SHUTDOWN);
    }

    // ---- the history of the client's streams

    void opened(int id) {
        if (ids == null) {
            ids = new int[REMEMBERED];
            resetByUs = new boolean[REMEMBERED];
        }
        int slot;
        if (size < REMEMBERED) {
            slot = (start + size++) % REMEMBERED;
        } else {
            slot = start;
            start = (start + 1) % REMEMBERED;
            forgot = true;
        }
        ids[slot] = id;
        resetByUs[slot] = false;
    }

    void closed(int id, boolean ourReset) {
        int slot = find(id);
        if (slot >= 0) {
            resetByUs[slot] = ourReset;
        }
    }

    /** What became of {@code id}, a client stream id below the last one opened and no longer open. */
    Fate fate(int id) {
        if (forgot && id < ids[start]) {
            return Fate.UNKNOWN;
        }
        int slot = find(id);
        if (slot < 0) {
            return Fate.NEVER_OPENED;
        }
        return resetByUs[slot] ? Fate.RESET_BY_US : Fate.CLOSED;
    }

    private int find(int id) {
        int lo = 0;
        int hi = size - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int slot = (start + mid) % REMEMBERED;
            int at = ids[slot];
            if (at < id) {
                lo = mid + 1;
            } else if (at > id) {
                hi = mid - 1;
            } else {
                return slot;
            }
        }
        return -1;
    }
}
