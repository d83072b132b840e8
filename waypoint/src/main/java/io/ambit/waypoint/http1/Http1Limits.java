package io.ambit.waypoint.http1;

import java.time.Duration;

/**
 * Limits of the HTTP/1.1 server side.
 *
 * @param maxInitialLineLength request line (method, target, version); longer: 400 and close
 * @param maxHeaderSize all header lines together; larger: 400 and close (Envoy's 60 KiB)
 * @param maxChunkSize body pieces are handed on at most this large
 * @param headersTimeout a connection that has not sent a complete request head this long after it opened
 *     or after the last response is closed (slow headers, idle keep-alive: slowloris)
 */
public record Http1Limits(int maxInitialLineLength, int maxHeaderSize, int maxChunkSize, Duration headersTimeout) {

    public Http1Limits {
        if (maxInitialLineLength < 256 || maxHeaderSize < 1024 || maxChunkSize < 1024) {
            throw new IllegalArgumentException("HTTP/1.1 limits " + maxInitialLineLength + "/" + maxHeaderSize + "/"
                    + maxChunkSize + " (expected: line >= 256, headers >= 1024, chunk >= 1024 bytes)");
        }
        if (headersTimeout == null || headersTimeout.isNegative() || headersTimeout.isZero()) {
            throw new IllegalArgumentException("headersTimeout: " + headersTimeout + " (expected: > 0)");
        }
    }

    /** 16 KiB request line, 60 KiB of headers, 64 KiB chunks, 30 s for a request head. */
    public static Http1Limits defaults() {
        return new Http1Limits(16 * 1024, 60 * 1024, 64 * 1024, Duration.ofSeconds(30));
    }
}
