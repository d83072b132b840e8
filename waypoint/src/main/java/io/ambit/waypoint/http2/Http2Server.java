package io.ambit.waypoint.http2;

import io.ambit.waypoint.ingress.Tunnel;
import io.ambit.waypoint.proxy.ProxyServices;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * The HTTP/2 server of one tunnel (prior knowledge; gRPC): one {@link H2Connection} — Netty's HTTP/2
 * connection handler with its abuse limits on — and per request stream a plain {@link H2ServerStream}, no
 * child channel and no pipeline per request. Netty refuses what the protocol forbids: connection-specific
 * headers, upper-case names, a body longer or shorter than {@code content-length} (CVE-2021-21295), streams
 * beyond {@code maxConcurrentStreams}, reset floods (CVE-2023-44487, CVE-2025-55163), CONTINUATION floods
 * (CVE-2024-27919).
 */
public final class Http2Server {
    /** Bounds the frames (SETTINGS/PING acks, RST_STREAM) queued for a client that does not read. */
    private static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;
    /** Consecutive DATA frames without payload and without END_STREAM before the connection ends. */
    private static final int MAX_CONSECUTIVE_EMPTY_DATA = 2;

    private Http2Server() {}

    /** Adds the HTTP/2 server to the end of a tunnel's pipeline. */
    public static void install(ChannelPipeline pipeline, ProxyServices services, Tunnel tunnel, Http2Limits limits) {
        // One HBONE DATA frame per flush rather than one per frame header and payload (see TunnelWrites).
        pipeline.addLast("h2-writes", new io.ambit.waypoint.ingress.TunnelWrites())
                .addLast("h2", new Builder(services, tunnel, limits).build());
    }

    /**
     * Netty's own builder for a server-side connection handler, exposing every limit (the public
     * {@code Http2ConnectionHandlerBuilder} hides the CONTINUATION and control-frame limits) and building
     * our subclass.
     */
    private static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<H2Connection, Builder> {
        private final ProxyServices services;
        private final Tunnel tunnel;
        private final Http2Limits limits;

        Builder(ProxyServices services, Tunnel tunnel, Http2Limits limits) {
            this.services = services;
            this.tunnel = tunnel;
            this.limits = limits;
            server(true);
            initialSettings(new Http2Settings()
                    .maxConcurrentStreams(limits.maxConcurrentStreams())
                    .maxHeaderListSize(limits.maxHeaderListSize())
                    .initialWindowSize(limits.initialStreamWindow()));
            validateHeaders(true);
            // RFC 9113 §8.3.1: exactly one :method, :scheme and :path (CONNECT: :authority), or the request is
            // malformed: RST_STREAM(PROTOCOL_ERROR) (h2spec http2/8.1.2.3-3: a request without :scheme was served).
            validateRequiredPseudoHeaders(true);
            decoderEnforceMaxRstFramesPerWindow(limits.maxRstPerWindow(), limits.rstWindowSeconds());
            encoderEnforceMaxRstFramesPerWindow(limits.maxRstPerWindow(), limits.rstWindowSeconds());
            decoderEnforceMaxSmallContinuationFrames(limits.maxSmallContinuationFrames());
            decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_CONSECUTIVE_EMPTY_DATA);
            encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES);
        }

        @Override
        protected H2Connection build() {
            return super.build();
        }

        @Override
        protected H2Connection build(
                Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings initialSettings) {
            return new H2Connection(
                    decoder,
                    encoder,
                    initialSettings,
                    decoupleCloseAndGoAway(),
                    flushPreface(),
                    services,
                    tunnel,
                    limits.connectionWindow());
        }
    }
}
