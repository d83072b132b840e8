package io.ambit.waypoint.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the waypoint removes from and adds to a request before anything reads it: hop-by-hop headers
 * (they describe the client's connection, not the request), internal headers a client must not be able to
 * forge ({@code x-forwarded-client-cert}, {@code x-envoy-*}, {@code x-istio-*}: CVE-2024-45806), the
 * upgrade machinery (no protocol switch through the waypoint: CVE-2024-23326), and a missing
 * {@code x-request-id} (Envoy generates one before its filters run).
 *
 * <p>Nothing here is identity: the source principal is the HBONE peer certificate, whatever
 * {@code forwarded}, {@code x-forwarded-for} or {@code x-forwarded-client-cert} say.
 */
final class RequestHeaders {
    private static final List<AsciiString> HOP_BY_HOP = List.of(
            AsciiString.cached("keep-alive"),
            AsciiString.cached("proxy-connection"),
            AsciiString.cached("upgrade"),
            AsciiString.cached("http2-settings"),
            AsciiString.cached("proxy-authorization"),
            AsciiString.cached("expect"));
    private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");

    private RequestHeaders() {}

    /**
     * Cleans {@code headers} in place. {@code http1}: {@code transfer-encoding} (already validated to be
     * exactly {@code chunked}) stays, it frames the body we forward; HTTP/2 has no such header.
     */
    static void clean(HttpHeaders headers, boolean http1) {
        // One pass to find out whether there is anything to remove at all: usually there is not, and a removal
        // is a hash lookup per name, ten of them per request.
        boolean hopByHop = false;
        List<String> internal = null;
        // By CharSequence: iterating as Map.Entry<String, String> makes an entry and a string per header.
        for (var it = headers.iteratorCharSequence(); it.hasNext(); ) {
            var field = it.next();
            CharSequence name = field.getKey();
            if (isHopByHop(name, field.getValue(), http1)) {
                hopByHop = true;
            } else if (startsWithIgnoreCase(name, "x-envoy-")
                    || startsWithIgnoreCase(name, "x-istio-")
                    || AsciiString.contentEqualsIgnoreCase(name, "x-forwarded-client-cert")) {
                if (internal == null) {
                    internal = new ArrayList<>(2);
                }
                internal.add(name.toString().toLowerCase(Locale.ROOT));
            }
        }
        if (hopByHop) {
            removeHopByHop(headers, http1);
        }
        if (internal != null) {
            internal.forEach(headers::remove);
        }
    }

    /** Whether {@link #removeHopByHop} has something to remove for this field. */
    private static boolean isHopByHop(CharSequence name, CharSequence value, boolean http1) {
        for (AsciiString h : HOP_BY_HOP) {
            if (h.contentEqualsIgnoreCase(name)) {
                return true;
            }
        }
        if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TE)) {
            return !AsciiString.contentEqualsIgnoreCase(AsciiString.trim(value), HttpHeaderValues.TRAILERS);
        }
        return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONNECTION)
                || (!http1 && AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING));
    }

    private static void removeHopByHop(HttpHeaders headers, boolean http1) {
        List<String> connectionTokens = null;
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String t = token.trim().toLowerCase(Locale.ROOT);
                if (!t.isEmpty()) {
                    if (connectionTokens == null) {
                        connectionTokens = new ArrayList<>(2);
                    }
                    connectionTokens.add(t);
                }
            }
        }
        headers.remove(HttpHeaderNames.CONNECTION);
        if (connectionTokens != null) {
            for (String t : connectionTokens) {
                if (!t.equals("close") && !t.equals("keep-alive") && !t.equals("transfer-encoding")) {
                    headers.remove(t); // headers the client declared hop-by-hop
                }
            }
        }
        for (AsciiString h : HOP_BY_HOP) {
            headers.remove(h);
        }
        String te = headers.get(HttpHeaderNames.TE);
        if (te != null && !te.trim().equalsIgnoreCase("trailers")) {
            headers.remove(HttpHeaderNames.TE); // only "trailers" may cross (gRPC sends it)
        }
        if (!http1) {
            headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        }
    }

    private static boolean startsWithIgnoreCase(CharSequence s, String prefix) {
        return s.length() >= prefix.length() && AsciiString.regionMatches(s, true, 0, prefix, 0, prefix.length());
    }

    /** The request's id: the client's {@code x-request-id}, or a new random UUID set on the request. */
    static String requestId(HttpHeaders headers) {
        String id = headers.get(X_REQUEST_ID);
        if (id == null || id.isEmpty() || id.length() > 256) {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            id = new java.util.UUID((r.nextLong() & ~0xf000L) | 0x4000L, (r.nextLong() & ~(3L << 62)) | (1L << 63))
                    .toString();
            headers.set(X_REQUEST_ID, id);
        }
        return id;
    }
}
