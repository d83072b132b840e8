package io.ambit.hbone.server;

import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C {@code traceparent}: {@code 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>}. HBONE clients
 * send a fresh random one per connection; the server uses it to correlate logs. Invalid values are
 * ignored (they are optional), never an error.
 *
 * @param traceId 32 lower-case hex digits, not all zero
 * @param parentId 16 lower-case hex digits, not all zero
 * @param flags the trace flags
 */
public record TraceParent(String traceId, String parentId, int flags) {
    private static final HexFormat HEX = HexFormat.of();

    public TraceParent {
        if (!isHex(traceId, 32) || !isHex(parentId, 16) || flags < 0 || flags > 0xff) {
            throw new IllegalArgumentException("traceparent " + traceId + "-" + parentId + "-" + flags
                    + " (expected 32 and 16 lower-case hex digits, not all zero, and flags 0-255)");
        }
    }

    /** A new random trace and parent id, flags 00 (as ztunnel sends). */
    public static TraceParent random() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        String trace;
        String parent;
        do {
            trace = HEX.toHexDigits(r.nextLong()) + HEX.toHexDigits(r.nextLong());
            parent = HEX.toHexDigits(r.nextLong());
        } while (!isHex(trace, 32) || !isHex(parent, 16));
        return new TraceParent(trace, parent, 0);
    }

    /** Parses a header value; empty when it is not a valid version-00 (or later-version) traceparent. */
    public static Optional<TraceParent> parse(CharSequence header) {
        if (header == null || header.length() < 55 || header.length() > 512) {
            return Optional.empty();
        }
        String s = header.toString();
        String version = s.substring(0, 2);
        if (!isHexDigits(version)
                || version.equals("ff")
                || s.charAt(2) != '-'
                || s.charAt(35) != '-'
                || s.charAt(52) != '-') {
            return Optional.empty();
        }
        if (version.equals("00") ? s.length() != 55 : s.length() > 55 && s.charAt(55) != '-') {
            return Optional.empty();
        }
        String trace = s.substring(3, 35);
        String parent = s.substring(36, 52);
        String flags = s.substring(53, 55);
        if (!isHex(trace, 32) || !isHex(parent, 16) || !isHexDigits(flags)) {
            return Optional.empty();
        }
        return Optional.of(new TraceParent(trace, parent, Integer.parseInt(flags, 16)));
    }

    /** The header value. */
    public String format() {
        return "00-" + traceId + "-" + parentId + "-" + HEX.toHexDigits((byte) flags);
    }

    @Override
    public String toString() {
        return format();
    }

    private static boolean isHex(String s, int length) {
        return s != null && s.length() == length && isHexDigits(s) && !s.chars().allMatch(c -> c == '0');
    }

    private static boolean isHexDigits(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }
}
