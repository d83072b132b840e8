package io.ambit.waypoint.http1;

import java.time.Duration;

/**
 * Limits of the HTTP/1.1 server side. The two timeouts are the slow-client defences (security case 42,
 * {@code slowhttptest}): a request head must arrive whole in {@code headersTimeout} (slowloris), and a
 * request body must keep arriving at {@code bodyMinRate} after a grace of {@code bodyTimeout} (slow body,
 * R-U-Dead-Yet). Stalled transfers in either direction also end at the route's stream idle timeout.
 *
 * @param maxInitialLineLength request line (method, target, version); longer: 400 and close
 * @param maxHeaderSize all header lines together; larger: 400 and close (Envoy's 60 KiB)
 * @param maxChunkSize body pieces are handed on at most this large
 * @param headersTimeout a connection that has not sent a complete request head this long after it opened
 *     or after the last response is closed (slow headers, idle keep-alive: slowloris)
 * @param bodyTimeout the time a request body may take beyond what {@code bodyMinRate} grants: a body of
 *     {@code n} bytes must have arrived within {@code bodyTimeout + n / bodyMinRate}, counting only the time
 *     the waypoint was reading (not the time the upstream or a policy stage held the body back); else 408
 *     and close. Envoy's edge {@code request_timeout} (300 s) is the same idea without the rate term, which
 *     would cut any upload longer than that
 * @param bodyMinRate bytes per second of body that earn one more second (0: the body gets {@code
 *     bodyTimeout} whatever its size); Apache's {@code mod_reqtimeout} uses 500
 */
public record Http1Limits(
        int maxInitialLineLength,
        int maxHeaderSize,
        int maxChunkSize,
        Duration headersTimeout,
        Duration bodyTimeout,
        int bodyMinRate) {

    public Http1Limits {
        if (maxInitialLineLength < 256 || maxHeaderSize < 1024 || maxChunkSize < 1024) {
            throw new IllegalArgumentException("HTTP/1.1 limits " + maxInitialLineLength + "/" + maxHeaderSize + "/"
                    + maxChunkSize + " (expected: line >= 256, headers >= 1024, chunk >= 1024 bytes)");
        }
        if (headersTimeout == null || headersTimeout.isNegative() || headersTimeout.isZero()) {
            throw new IllegalArgumentException("headersTimeout: " + headersTimeout + " (expected: > 0)");
        }
        if (bodyTimeout == null || bodyTimeout.isNegative() || bodyTimeout.isZero()) {
            throw new IllegalArgumentException("bodyTimeout: " + bodyTimeout + " (expected: > 0)");
        }
        if (bodyMinRate < 0) {
            throw new IllegalArgumentException("bodyMinRate: " + bodyMinRate + " (expected: >= 0 bytes/s)");
        }
    }

    /** These sizes and head timeout with the default body timeout and rate. */
    public Http1Limits(int maxInitialLineLength, int maxHeaderSize, int maxChunkSize, Duration headersTimeout) {
        this(maxInitialLineLength, maxHeaderSize, maxChunkSize, headersTimeout, DEFAULT_BODY_TIMEOUT, DEFAULT_MIN_RATE);
    }

    private static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(300);
    private static final int DEFAULT_MIN_RATE = 1024;

    /**
     * 16 KiB request line, 60 KiB of headers, 64 KiB chunks, 30 s for a request head, 300 s for a body
     * (Envoy's edge {@code request_timeout}) plus one second per KiB received.
     */
    public static Http1Limits defaults() {
        return new Http1Limits(16 * 1024, 60 * 1024, 64 * 1024, Duration.ofSeconds(30));
    }

    /** These limits with another body timeout and minimum rate. */
    public Http1Limits withBody(Duration timeout, int minRate) {
        return new Http1Limits(maxInitialLineLength, maxHeaderSize, maxChunkSize, headersTimeout, timeout, minRate);
    }
}
