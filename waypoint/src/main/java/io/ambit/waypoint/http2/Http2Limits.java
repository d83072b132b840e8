package io.ambit.waypoint.http2;

/**
 * Limits of the HTTP/2 server side (Envoy's edge recommendations where they exist).
 *
 * @param maxConcurrentStreams streams a client may have open at once (100)
 * @param maxHeaderListSize decoded header bytes per request (60 KiB); beyond, the stream gets 431, and a
 *     header block growing past 1.25 times this ends the connection (CONTINUATION flood, CVE-2024-27919)
 * @param initialStreamWindow bytes a client may send on one stream before we read them (64 KiB)
 * @param connectionWindow bytes a client may send on the whole connection (1 MiB)
 * @param maxRstPerWindow resets (sent or received) per {@code rstWindowSeconds} before the connection ends
 *     with ENHANCE_YOUR_CALM (Rapid Reset, CVE-2023-44487; MadeYouReset, CVE-2025-55163)
 * @param rstWindowSeconds the window of {@code maxRstPerWindow}
 * @param maxSmallContinuationFrames consecutive CONTINUATION frames that carry almost nothing
 */
public record Http2Limits(
        int maxConcurrentStreams,
        int maxHeaderListSize,
        int initialStreamWindow,
        int connectionWindow,
        int maxRstPerWindow,
        int rstWindowSeconds,
        int maxSmallContinuationFrames) {

    public Http2Limits {
        if (maxConcurrentStreams < 1
                || maxHeaderListSize < 1024
                || initialStreamWindow < 16 * 1024
                || connectionWindow < initialStreamWindow
                || maxRstPerWindow < 1
                || rstWindowSeconds < 1
                || maxSmallContinuationFrames < 1) {
            throw new IllegalArgumentException("HTTP/2 limits " + this
                    + " (expected: streams >= 1, header list >= 1024, stream window >= 16384 <= connection window,"
                    + " rst budget and window >= 1, continuation frames >= 1)");
        }
    }

    /** 100 streams, 60 KiB headers, 64 KiB / 1 MiB windows, 200 resets per 30 s, 16 small CONTINUATIONs. */
    public static Http2Limits defaults() {
        return new Http2Limits(100, 60 * 1024, 64 * 1024, 1024 * 1024, 200, 30, 16);
    }
}
