package io.ambit.hbone.pool;

import io.ambit.hbone.server.Baggage;
import io.ambit.hbone.tls.TlsPeer;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * An accepted HBONE tunnel: the server answered {@code 200}. Relay through {@link #channel()} (e.g.
 * {@code Relay.start(appSocket, stream.channel())}); it reads and writes {@code ByteBuf}s and half-closes
 * like a socket. Whatever the server sent after its 200 is held until the relay starts. The caller owns
 * the channel: relay it or close it.
 *
 * @param channel the stream, with {@code HboneStreamCodec} and an {@code InboundHold} in its pipeline
 * @param responseHeaders the server's response headers
 * @param peer the server's verified identity and the connection's TLS parameters
 */
public record HboneStream(Http2StreamChannel channel, Http2Headers responseHeaders, TlsPeer peer) {

    /** The destination's metadata from the response {@code baggage} header, if the server sent one. */
    public Baggage responseBaggage() {
        return Baggage.parse(responseHeaders.get("baggage"));
    }
}
