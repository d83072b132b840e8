package io.ambit.waypoint.conformance.attack;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.waypoint.http1.Http1Limits;
import io.ambit.waypoint.http2.Http2Limits;
import io.ambit.waypoint.route.RouteConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The shipped limits against Envoy's edge-proxy guidance (best_practices/edge: stream_idle_timeout 300 s,
 * request_timeout 300 s, HTTP/2 100 streams with 64 KiB / 1 MiB windows, 32 KiB per-connection buffers), the
 * numbers security case 42 names. The attack tests run with two-second timeouts; these are what a user gets.
 */
class EdgeDefaultsTest {
    @Test
    void streamIdleTimeoutIsEnvoysFiveMinutes() {
        assertThat(RouteConfig.defaults().streamIdleTimeout()).isEqualTo(Duration.ofSeconds(300));
    }

    @Test
    void aRequestBodyGetsEnvoysEdgeRequestTimeoutPlusTimeForItsSize() {
        Http1Limits h1 = Http1Limits.defaults();
        assertThat(h1.bodyTimeout()).isEqualTo(Duration.ofSeconds(300));
        // The rate term: an upload that keeps moving is never cut, unlike a flat request_timeout.
        assertThat(h1.bodyMinRate()).isPositive().isLessThanOrEqualTo(4096);
    }

    @Test
    void aRequestHeadHasThirtySecondsAndSixtyKibibytes() {
        // Envoy's request_headers_timeout is off unless set; a head that never ends must not hold a tunnel.
        Http1Limits h1 = Http1Limits.defaults();
        assertThat(h1.headersTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(h1.maxHeaderSize()).isEqualTo(60 * 1024); // Envoy's max_request_headers_kb default
    }

    @Test
    void http2StreamsAndWindowsAreEnvoysEdgeValues() {
        Http2Limits h2 = Http2Limits.defaults();
        assertThat(h2.maxConcurrentStreams()).isEqualTo(100);
        assertThat(h2.initialStreamWindow()).isEqualTo(64 * 1024);
        assertThat(h2.connectionWindow()).isEqualTo(1024 * 1024);
    }

    @Test
    void writesQueuedPerTunnelAreBoundedThoughAboveEnvoysEdge32KiB() {
        // Documented difference: HBONE keeps ztunnel's windows (4 MiB per stream) for throughput, and a tunnel
        // queues at most 400 KiB of writes before back-pressure stops its source. Bounded, not 32 KiB.
        var hbone = HboneServerConfig.defaults(new InetSocketAddress(0)).http2();
        assertThat(hbone.maxSendBuffer()).isEqualTo(400 * 1024);
        assertThat(hbone.initialStreamWindow()).isEqualTo(4 * 1024 * 1024);
    }
}
