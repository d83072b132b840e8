package io.ambit.waypoint.route;

import io.ambit.hbone.flow.ParkingFlowController;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.AsciiString;

/**
 * Builds the client side of an upstream HTTP/2 connection with the waypoint's limits: no server push, a 1 MiB
 * stream window (what one slow client can hold back per stream), response header lists up to the configured
 * size, header validation, and the decoder's guards against RST_STREAM floods and CONTINUATION floods.
 */
final class H2SessionBuilder extends AbstractHttp2ConnectionHandlerBuilder<H2Session, H2SessionBuilder> {
    static final int STREAM_WINDOW = 1024 * 1024;

    /**
     * Connection credit lent, at most, for response bytes parked on streams whose client stopped reading: the
     * session's connection window (twice the stream window, see {@code H2Session.handlerAdded}), so a session holds
     * at most twice that, and is congested (takes no new stream) with one stream's window parked.
     */
    static final int PARKING_BUDGET = 2 * STREAM_WINDOW;

    static final int PARKING_THRESHOLD = 64 * 1024;

    private final LoopUpstreams owner;
    private final UpstreamKey key;
    private final RouteConfig config;
    private final Deadlines deadlines;

    H2SessionBuilder(LoopUpstreams owner, UpstreamKey key, RouteConfig config, Deadlines deadlines) {
        this.owner = owner;
        this.key = key;
        this.config = config;
        this.deadlines = deadlines;
        // Responses a slow client leaves unread park on their stream (up to its 1 MiB window) without holding the
        // session's connection window that other clients' streams need (ParkingFlowController); the connection
        // is made here to choose its flow controller, and gives the builder the client role.
        Http2Connection connection = new DefaultHttp2Connection(false);
        if (ParkingFlowController.enabled()) {
            connection.local().flowController(new ParkingFlowController(connection, PARKING_BUDGET, PARKING_THRESHOLD));
        }
        connection(connection);
        initialSettings(new Http2Settings()
                .pushEnabled(false)
                .maxHeaderListSize(config.maxResponseHeaderBytes())
                .initialWindowSize(STREAM_WINDOW));
        validateHeaders(true);
        headerSensitivityDetector(H2SessionBuilder::uniquePerRequest);
        decoderEnforceMaxRstFramesPerWindow(200, 30);
        decoderEnforceMaxSmallContinuationFrames(16);
    }

    /**
     * Headers whose value is new on every request (the waypoint sets them): sent as literals that are never
     * indexed, so they do not churn the HPACK dynamic table (4 KiB) — five such values per request would evict
     * the entries that do repeat (:authority, user-agent, content-type...), which then cost their full size
     * again, and every insertion and eviction is work on both ends.
     */
    private static boolean uniquePerRequest(CharSequence name, CharSequence value) {
        return name.length() > 10
                && (AsciiString.contentEquals(name, "x-request-id")
                        || AsciiString.contentEquals(name, "traceparent")
                        || AsciiString.contentEquals(name, "x-b3-traceid")
                        || AsciiString.contentEquals(name, "x-b3-spanid")
                        || AsciiString.contentEquals(name, "x-b3-parentspanid"));
    }

    @Override
    public H2Session build() {
        return super.build();
    }

    @Override
    protected H2Session build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
        return new H2Session(
                decoder, encoder, settings, decoupleCloseAndGoAway(), flushPreface(), owner, key, config, deadlines);
    }
}
