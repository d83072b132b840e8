package io.ambit.hbone.conformance.h2;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.Rfc9113Errors;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Stream;
import org.junit.jupiter.api.Test;

/**
 * The answers of {@link Rfc9113Errors} on a real (Netty) server connection whose client streams open and close as
 * they would on the wire: which refused frames are dropped, which end the connection, which keep Netty's answer.
 */
final class Rfc9113ErrorsTest {
    private final Http2Connection connection = new DefaultHttp2Connection(true);
    private final Rfc9113Errors errors = Rfc9113Errors.follow(connection);

    private Http2Stream open(int id) throws Http2Exception {
        return connection.remote().createStream(id, false);
    }

    private static Http2Exception.StreamException streamClosed(int id) {
        return (Http2Exception.StreamException)
                Http2Exception.streamError(id, Http2Error.STREAM_CLOSED, "Received DATA frame for an unknown stream");
    }

    @Test
    void aFrameOnAStreamWeResetIsDroppedWithoutAnAnswer() throws Exception {
        Http2Stream s = open(1);
        s.resetSent();
        s.close();
        assertThat(errors.answer(streamClosed(1), false)).isNull();
    }

    @Test
    void aFrameOnAStreamTheClientResetOrEndedKeepsStreamClosed() throws Exception {
        open(1).close(); // the client's RST_STREAM, or both sides' END_STREAM
        Http2Exception.StreamException e = streamClosed(1);
        assertThat(errors.answer(e, false)).isSameAs(e);
    }

    @Test
    void aNewStreamBelowAnOpenedOneEndsTheConnectionWithProtocolError() throws Exception {
        open(5);
        Http2Exception answer = errors.answer(streamClosed(3), false);
        assertThat(answer).isNotInstanceOf(Http2Exception.StreamException.class);
        assertThat(answer.error()).isEqualTo(Http2Error.PROTOCOL_ERROR);
        // also below the first stream the client ever opened
        assertThat(errors.answer(streamClosed(1), false).error()).isEqualTo(Http2Error.PROTOCOL_ERROR);
    }

    @Test
    void streamsOlderThanTheHistoryAreUnknownAndKeepNettysAnswer() throws Exception {
        for (int id = 1; id <= 2 * 300 + 1; id += 2) { // 301 streams, more than the 256 remembered
            Http2Stream s = open(id);
            if (id == 1) {
                s.resetSent();
            }
            s.close();
        }
        Http2Exception.StreamException forgotten = streamClosed(1); // reset by us, but fell out of the history
        assertThat(errors.answer(forgotten, false)).isSameAs(forgotten);
        Http2Stream late = connection.stream(601);
        assertThat(late).isNull();
        assertThat(errors.answer(streamClosed(599), false)).isNotNull(); // remembered: closed, Netty's answer
        assertThat(errors.answer(streamClosed(599), false).error()).isEqualTo(Http2Error.STREAM_CLOSED);
    }

    @Test
    void headersOnAStreamTheClientEndedGetStreamClosedNotProtocolError() throws Exception {
        connection.remote().createStream(1, true); // HEADERS with END_STREAM: half-closed (remote)
        var nettys = (Http2Exception.StreamException) Http2Exception.streamError(
                1,
                Http2Error.PROTOCOL_ERROR,
                "Stream %d received too many headers EOS: %s state: %s",
                1,
                true,
                Http2Stream.State.HALF_CLOSED_REMOTE);
        Http2Exception answer = errors.answer(nettys, false);
        assertThat(answer).isInstanceOf(Http2Exception.StreamException.class);
        assertThat(answer.error()).isEqualTo(Http2Error.STREAM_CLOSED);

        var zeroWindowUpdate = (Http2Exception.StreamException) Http2Exception.streamError(
                1, Http2Error.PROTOCOL_ERROR, "Received WINDOW_UPDATE with delta 0 for stream: %d", 1);
        assertThat(errors.answer(zeroWindowUpdate, false)).isSameAs(zeroWindowUpdate);
    }

    @Test
    void aHardShutdownNamesTheLastStreamOpenedButOthersAreUntouched() {
        Http2Exception hard = Http2Exception.connectionError(Http2Error.FRAME_SIZE_ERROR, "bad PING");
        assertThat(hard.shutdownHint()).isEqualTo(Http2Exception.ShutdownHint.HARD_SHUTDOWN);
        Http2Exception known = Rfc9113Errors.withLastStreamKnown(hard);
        assertThat(known.shutdownHint()).isEqualTo(Http2Exception.ShutdownHint.NO_SHUTDOWN);
        assertThat(known.error()).isEqualTo(Http2Error.FRAME_SIZE_ERROR);

        Http2Exception graceful =
                new Http2Exception(Http2Error.NO_ERROR, "draining", Http2Exception.ShutdownHint.GRACEFUL_SHUTDOWN);
        assertThat(Rfc9113Errors.withLastStreamKnown(graceful)).isSameAs(graceful);
        assertThat(Rfc9113Errors.withLastStreamKnown(null)).isNull();
    }
}
