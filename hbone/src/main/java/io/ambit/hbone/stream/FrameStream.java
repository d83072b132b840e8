package io.ambit.hbone.stream;

import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;

/**
 * One HTTP/2 stream of a {@link FrameStreams} connection, as a plain object: what the connection's handler hands it.
 * The server's CONNECT streams and the pool's direct client streams implement it. Event-loop only.
 */
public interface FrameStream {
    /** HEADERS on this stream (the request or the answer, or trailers). */
    void onHeaders(Http2HeadersFrame frame);

    /** DATA on this stream; the receiver owns the payload and credits its flow-controlled bytes back. */
    void onData(Http2DataFrame frame);

    /** RST_STREAM from the peer. */
    void onReset(long errorCode);

    /** A stream error the codec found in what the peer sent; the codec answers it with RST_STREAM. */
    void onStreamError(Throwable cause);

    /** A TLS error on the whole connection, before it closes (as Netty's multiplexer tells each child channel). */
    void onConnectionError(Throwable cause);

    /** The stream is closed (both ends, a reset either way, or the connection went away). Called once. */
    void onClosed();

    /** Its relay once started, else null. */
    StreamTunnel tunnel();

    /** The end of the connection's read in which this stream asked {@link FrameStreams#readLater}. */
    default void readComplete() {
        StreamTunnel tunnel = tunnel();
        if (tunnel != null) {
            tunnel.readComplete();
        }
    }

    /** The connection turned writable again. */
    default void connectionWritable() {
        StreamTunnel tunnel = tunnel();
        if (tunnel != null) {
            tunnel.connectionWritable();
        }
    }
}
