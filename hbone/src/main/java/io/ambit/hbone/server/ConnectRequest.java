package io.ambit.hbone.server;

import io.ambit.hbone.tls.TlsPeer;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * One CONNECT stream, handed to the {@link ConnectHandler} to decide.
 *
 * @param peer the client's verified identity and TLS parameters
 * @param authority where the client wants to go
 * @param forwarded the parsed {@code forwarded} header, if present and well-formed
 * @param baggage the parsed {@code baggage} header (empty if absent)
 * @param traceParent the parsed {@code traceparent}, if present and valid
 * @param headers all request headers, as received (do not modify)
 * @param localAddress the address the client connected to (for ztunnel's destination check)
 * @param remoteAddress the client's address
 * @param streamId the HTTP/2 stream id, for logs
 * @param eventLoop the stream's event loop: connect the upstream on it to keep the relay on one thread
 * @param streamClosed completes if the stream goes away before or after the decision (client reset,
 *     connection lost); a handler may use it to abandon work
 */
public record ConnectRequest(
        TlsPeer peer,
        Authority authority,
        Optional<Forwarded> forwarded,
        Baggage baggage,
        Optional<TraceParent> traceParent,
        Http2Headers headers,
        InetSocketAddress localAddress,
        InetSocketAddress remoteAddress,
        int streamId,
        EventLoop eventLoop,
        CompletionStage<Void> streamClosed) {

    /**
     * The request a CONNECT stream of {@code connection} carries, its optional headers parsed: one place for the
     * child-channel handler and the direct streams, so both hand handlers the same request.
     */
    static ConnectRequest of(
            TlsPeer peer,
            Authority authority,
            Http2Headers headers,
            Channel connection,
            int streamId,
            EventLoop eventLoop,
            CompletionStage<Void> streamClosed) {
        return new ConnectRequest(
                peer,
                authority,
                Forwarded.parse(headers.get("forwarded")),
                Baggage.parse(headers.get("baggage")),
                TraceParent.parse(headers.get("traceparent")),
                headers,
                (InetSocketAddress) connection.localAddress(),
                (InetSocketAddress) connection.remoteAddress(),
                streamId,
                eventLoop,
                streamClosed);
    }
}
