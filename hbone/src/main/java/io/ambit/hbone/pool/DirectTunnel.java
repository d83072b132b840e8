package io.ambit.hbone.pool;

import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.server.Baggage;
import io.ambit.hbone.tls.TlsPeer;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.function.Consumer;

/**
 * An accepted HBONE tunnel without a stream channel ({@link HbonePool#tunnel}): the server answered {@code 200}.
 * Whatever the server sent after it is held until {@link #relay} starts. The caller owns it: relay it (once) or
 * {@link #reset()} it.
 */
public final class DirectTunnel {
    private final ClientStream stream;
    private final Http2Headers responseHeaders;
    private final TlsPeer peer;

    DirectTunnel(ClientStream stream, Http2Headers responseHeaders, TlsPeer peer) {
        this.stream = stream;
        this.responseHeaders = responseHeaders;
        this.peer = peer;
    }

    /** The server's response headers. */
    public Http2Headers responseHeaders() {
        return responseHeaders;
    }

    /** The server's verified identity and the connection's TLS parameters. */
    public TlsPeer peer() {
        return peer;
    }

    /** The destination's metadata from the response {@code baggage} header, if the server sent one. */
    public Baggage responseBaggage() {
        return Baggage.parse(responseHeaders.get("baggage"));
    }

    /**
     * Relays between {@code socket} and the stream with {@code Relay}'s rules until both directions ended, then tells
     * {@code onEnd} (on the stream's event loop) the result: {@code aToB} = socket to stream, {@code bToA} = stream to
     * socket. {@code socket} should have an {@code InboundHold} and auto-read off until now; it may live on any event
     * loop (the pool's loop affinity avoids a hand-over). Any thread; once.
     */
    public void relay(Channel socket, Consumer<RelayResult> onEnd) {
        stream.onLoop(() -> stream.relay(socket, onEnd));
    }

    /** Gives the tunnel up without relaying: the stream is reset (RST_STREAM CANCEL). Any thread. */
    public void reset() {
        stream.onLoop(stream::abandon);
    }
}
