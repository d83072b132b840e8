package io.ambit.hbone.server;

import io.ambit.hbone.relay.RelayResult;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.util.Map;
import java.util.function.Consumer;

/** A {@link ConnectHandler}'s answer to one CONNECT. */
public sealed interface ConnectResponse {

    /**
     * Answer {@code 200} and relay the stream to {@code upstream}, an open channel the handler connected
     * (give it {@code ALLOW_HALF_CLOSURE} and an {@code InboundHold} from the start). Bytes the client sent before the answer go to the upstream first.
     * If the stream is gone by the time the answer comes, the upstream is closed.
     */
    static ConnectResponse tunnel(Channel upstream) {
        return new Tunnel(upstream, Map.of(), r -> {});
    }

    /** As {@link #tunnel(Channel)}, with response headers (e.g. {@code baggage}) and a completion callback. */
    static ConnectResponse tunnel(Channel upstream, Map<String, String> headers, Consumer<RelayResult> onComplete) {
        return new Tunnel(upstream, headers, onComplete);
    }

    /**
     * Answer {@code 200} and hand the stream channel over (e.g. to a waypoint's inner HTTP codec). Its
     * pipeline holds {@code HboneStreamCodec} (bytes in and out) and an {@code InboundHold} with the bytes
     * sent before the answer: add your handlers, then call {@code InboundHold.release(pipeline)} and turn
     * auto-read on.
     */
    static ConnectResponse accept(Map<String, String> headers, Consumer<Http2StreamChannel> takeOver) {
        return new Accept(headers, takeOver);
    }

    /** Answer with a non-200 status and end the stream; nothing the client sent is used. */
    static ConnectResponse reject(ConnectStatus status, String reason) {
        if (status == ConnectStatus.OK) {
            throw new IllegalArgumentException("reject with 200 (expected 400, 401 or 503)");
        }
        return new Reject(status, reason);
    }

    /** @see #tunnel(Channel, Map, Consumer) */
    record Tunnel(Channel upstream, Map<String, String> headers, Consumer<RelayResult> onComplete)
            implements ConnectResponse {
        public Tunnel {
            headers = Map.copyOf(headers);
        }
    }

    /** @see #accept(Map, Consumer) */
    record Accept(Map<String, String> headers, Consumer<Http2StreamChannel> takeOver) implements ConnectResponse {
        public Accept {
            headers = Map.copyOf(headers);
        }
    }

    /** @see #reject(ConnectStatus, String) */
    record Reject(ConnectStatus status, String reason) implements ConnectResponse {}
}
