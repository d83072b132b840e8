package io.ambit.waypoint.tracing;

import io.ambit.hbone.server.TraceParent;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The waypoint's span of one request: which trace it belongs to (from the client's W3C {@code traceparent},
 * else its B3 headers, else a new trace), its own span id, its parent and whether it is sampled. The
 * upstream gets both propagation formats, naming the waypoint's span as the parent, as Envoy's Zipkin
 * tracer does.
 *
 * @param traceId 32 lower-case hex digits
 * @param spanId the waypoint's span, 16 hex digits
 * @param parentId the client's span, or null when the waypoint started the trace
 * @param sampled whether the span is recorded (and the upstream told so)
 */
public record TraceContext(String traceId, String spanId, String parentId, boolean sampled) {

    /**
     * The context for a request with these headers: continues the client's trace if it sent a valid one;
     * otherwise starts one, sampled with probability {@code samplingPercent} / 100.
     */
    public static TraceContext from(HttpHeaders headers, double samplingPercent) {
        String w3c = headers.get("traceparent");
        if (w3c != null) {
            var parsed = TraceParent.parse(w3c);
            if (parsed.isPresent()) {
                TraceParent p = parsed.get();
                return new TraceContext(p.traceId(), newSpanId(), p.parentId(), (p.flags() & 1) == 1);
            }
        }
        String b3 = headers.get("b3");
        if (b3 != null) {
            TraceContext single = fromB3Single(b3, samplingPercent);
            if (single != null) {
                return single;
            }
        }
        String traceId = headers.get("x-b3-traceid");
        String spanId = headers.get("x-b3-spanid");
        if (traceId != null && spanId != null && isHex(traceId, 16, 32) && isHex(spanId, 16, 16)) {
            String sampled = headers.get("x-b3-sampled");
            boolean s = sampled == null ? sample(samplingPercent) : sampled.equals("1") || sampled.equals("true");
            if ("1".equals(headers.get("x-b3-flags"))) {
                s = true; // debug
            }
            return new TraceContext(pad(traceId), newSpanId(), spanId.toLowerCase(), s);
        }
        return new TraceContext(newTraceId(), newSpanId(), null, sample(samplingPercent));
    }

    private static TraceContext fromB3Single(String b3, double samplingPercent) {
        String[] parts = b3.split("-", -1);
        if (parts.length < 2 || !isHex(parts[0], 16, 32) || !isHex(parts[1], 16, 16)) {
            return null;
        }
        boolean s = parts.length >= 3 ? parts[2].equals("1") || parts[2].equals("d") : sample(samplingPercent);
        return new TraceContext(pad(parts[0]), newSpanId(), parts[1].toLowerCase(), s);
    }

    /** Sets {@code traceparent} and the B3 headers for the upstream request; removes the single {@code b3} form. */
    public void propagate(HttpHeaders headers) {
        headers.set("traceparent", "00-" + traceId + "-" + spanId + (sampled ? "-01" : "-00"));
        headers.remove("b3");
        headers.set("x-b3-traceid", traceId);
        headers.set("x-b3-spanid", spanId);
        if (parentId != null) {
            headers.set("x-b3-parentspanid", parentId);
        } else {
            headers.remove("x-b3-parentspanid");
        }
        headers.set("x-b3-sampled", sampled ? "1" : "0");
        headers.remove("x-b3-flags");
    }

    private static boolean sample(double percent) {
        return percent >= 100 || (percent > 0 && ThreadLocalRandom.current().nextDouble() * 100 < percent);
    }

    // Ids are written as hex straight into one char array per id: a new trace costs two strings, not six
    // (Long.toHexString, zero padding and concatenation per half), on every request without a trace.
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    static String newTraceId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long high;
        long low;
        do {
            high = r.nextLong();
            low = r.nextLong();
        } while (high == 0 && low == 0);
        char[] out = new char[32];
        hex(high, out, 0);
        hex(low, out, 16);
        return new String(out);
    }

    static String newSpanId() {
        long id;
        do {
            id = ThreadLocalRandom.current().nextLong();
        } while (id == 0);
        char[] out = new char[16];
        hex(id, out, 0);
        return new String(out);
    }

    private static void hex(long v, char[] out, int at) {
        for (int i = 15; i >= 0; i--) {
            out[at + i] = HEX[(int) (v & 0xf)];
            v >>>= 4;
        }
    }

    private static String pad(String traceId) {
        String id = traceId.toLowerCase();
        return id.length() == 32 ? id : "0".repeat(32 - id.length()) + id;
    }

    private static boolean isHex(String s, int min, int max) {
        if (s.length() < min || s.length() > max) {
            return false;
        }
        boolean nonZero = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (!digit) {
                return false;
            }
            nonZero |= c != '0';
        }
        return nonZero;
    }

    /** As the CONNECT of an upstream tunnel carries it. */
    public TraceParent asTraceParent() {
        return new TraceParent(traceId, spanId, sampled ? 1 : 0);
    }
}
