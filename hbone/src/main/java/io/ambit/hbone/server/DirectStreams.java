package io.ambit.hbone.server;

import io.ambit.hbone.metrics.HboneMetrics;
import io.ambit.hbone.stream.FrameStreams;
import io.netty.handler.codec.http2.Http2HeadersFrame;

/**
 * An HBONE server connection's CONNECT streams without a Netty child channel each ({@link FrameStreams}): each new
 * request becomes a plain {@link DirectStream}, which decides the CONNECT and relays it to its upstream socket.
 * Everything below (frame codec, flow control with parking, RST limits, keep-alive, GOAWAY and drain) is the same
 * codec as with child channels.
 *
 * <p>Streams are only relayed to an upstream ({@link ConnectResponse.Tunnel}); a server whose handler hands streams
 * over ({@link ConnectResponse.Accept}, the waypoint) keeps child channels. Switched on by {@link
 * HboneServerConfig#directStreams()} (or, for every server of a JVM, {@code -Dambit.hbone.directStreams=true}).
 * Event-loop only, like every handler.
 */
final class DirectStreams extends FrameStreams {
    static final String PROPERTY = "ambit.hbone.directStreams";

    /** The default of {@link HboneServerConfig#directStreams()} ({@value #PROPERTY}; off unless set). */
    static boolean enabled() {
        return Boolean.getBoolean(PROPERTY);
    }

    final ConnectHandler handler;
    final HboneServerConfig config;
    final ServerCounters counters;
    final HboneMetrics.Side meters;

    DirectStreams(ConnectHandler handler, HboneServerConfig config, ServerCounters counters, HboneMetrics.Side meters) {
        this.handler = handler;
        this.config = config;
        this.counters = counters;
        this.meters = meters;
    }

    @Override
    protected void onUnknownHeaders(Http2HeadersFrame headers) {
        DirectStream stream = new DirectStream(this, headers.stream());
        register(headers.stream().id(), stream);
        stream.onRequest(headers);
    }
}
