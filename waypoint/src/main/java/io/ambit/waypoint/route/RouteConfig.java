package io.ambit.waypoint.route;

import java.time.Duration;

/**
 * How the waypoint reaches endpoints.
 *
 * @param hbonePort the nodes' HBONE port (15008)
 * @param connectTimeout opening a tunnel (and, for HTTP/2, the stream) may take this long
 * @param requestTimeout the whole response must be complete within this; zero: no limit (Istio's
 *     default for mesh routes)
 * @param streamIdleTimeout nothing moving on a request for this long ends it (Envoy's 5 min)
 * @param upstreamIdleTimeout an unused upstream connection closes after this
 * @param maxStreamsPerConnection streams per upstream HTTP/2 connection (lowered by the server's setting)
 * @param maxResponseHeaderBytes the largest response header block accepted from an upstream
 */
public record RouteConfig(
        int hbonePort,
        Duration connectTimeout,
        Duration requestTimeout,
        Duration streamIdleTimeout,
        Duration upstreamIdleTimeout,
        int maxStreamsPerConnection,
        int maxResponseHeaderBytes) {

    public RouteConfig {
        if (hbonePort < 1 || hbonePort > 65535) {
            throw new IllegalArgumentException("hbonePort: " + hbonePort + " (expected: 1-65535)");
        }
        positive("connectTimeout", connectTimeout);
        if (requestTimeout == null || requestTimeout.isNegative()) {
            throw new IllegalArgumentException("requestTimeout: " + requestTimeout + " (expected: >= 0; 0 = none)");
        }
        positive("streamIdleTimeout", streamIdleTimeout);
        positive("upstreamIdleTimeout", upstreamIdleTimeout);
        if (maxStreamsPerConnection < 1) {
            throw new IllegalArgumentException(
                    "maxStreamsPerConnection: " + maxStreamsPerConnection + " (expected: > 0)");
        }
        if (maxResponseHeaderBytes < 1024) {
            throw new IllegalArgumentException(
                    "maxResponseHeaderBytes: " + maxResponseHeaderBytes + " (expected: >= 1024)");
        }
    }

    /** 15008; 10 s to connect; no request timeout; 5 min stream idle; 60 s upstream idle; 100 streams. */
    public static RouteConfig defaults() {
        return new RouteConfig(
                15008,
                Duration.ofSeconds(10),
                Duration.ZERO,
                Duration.ofMinutes(5),
                Duration.ofSeconds(60),
                100,
                64 * 1024);
    }

    public RouteConfig withHbonePort(int port) {
        return new RouteConfig(
                port,
                connectTimeout,
                requestTimeout,
                streamIdleTimeout,
                upstreamIdleTimeout,
                maxStreamsPerConnection,
                maxResponseHeaderBytes);
    }

    public RouteConfig withRequestTimeout(Duration timeout) {
        return new RouteConfig(
                hbonePort,
                connectTimeout,
                timeout,
                streamIdleTimeout,
                upstreamIdleTimeout,
                maxStreamsPerConnection,
                maxResponseHeaderBytes);
    }

    public RouteConfig withConnectTimeout(Duration timeout) {
        return new RouteConfig(
                hbonePort,
                timeout,
                requestTimeout,
                streamIdleTimeout,
                upstreamIdleTimeout,
                maxStreamsPerConnection,
                maxResponseHeaderBytes);
    }

    private static void positive(String name, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
        }
    }
}
