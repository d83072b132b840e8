package io.ambit.waypoint.extauthz;

import java.util.Locale;
import java.util.Set;

/**
 * What an ext_authz provider may write, and what the waypoint may pass to it. A provider is trusted to
 * decide, not to reframe the request: pseudo-headers, {@code host}, framing and hop-by-hop headers are
 * never taken from it (Envoy refuses to change {@code :authority}/{@code host} too), and a name or value
 * that could split a header is dropped.
 */
final class SafeHeaders {
    /** Never copied to or from a provider: they describe a connection or a message frame, not a request. */
    static final Set<String> FRAMING = Set.of(
            "host",
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "te",
            "trailer",
            "upgrade",
            "content-length",
            "http2-settings",
            "expect");

    private SafeHeaders() {}

    /** The lower-case name if it is an RFC 9110 token a provider may set, else null. */
    static String writableName(String name) {
        if (name == null || name.isEmpty() || name.length() > 256) {
            return null;
        }
        String n = name.toLowerCase(Locale.ROOT);
        if (FRAMING.contains(n)) {
            return null;
        }
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return null;
            }
        }
        return n;
    }

    /** Whether a value stays on one header line. */
    static boolean safeValue(String v) {
        if (v == null) {
            return false;
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return false;
            }
        }
        return true;
    }
}
