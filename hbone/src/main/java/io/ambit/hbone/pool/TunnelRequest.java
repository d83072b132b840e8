package io.ambit.hbone.pool;

import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.TraceParent;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The CONNECT an HBONE client sends on a new stream (ztunnel-reference.md §2.3).
 *
 * @param authority the target, {@code ip:port} (IPv6 bracketed) or {@code host:port}
 * @param baggage the source workload's metadata, or {@code null} to send none
 * @param forwarded e.g. {@code for="10.0.0.1:41234";host=svc.ns.svc.cluster.local}, or {@code null}
 * @param traceParent sent as {@code traceparent}
 * @param extraHeaders further headers, e.g. {@code x-forwarded-network} on double HBONE
 */
public record TunnelRequest(
        Authority authority,
        String baggage,
        String forwarded,
        TraceParent traceParent,
        Map<String, String> extraHeaders) {

    public TunnelRequest {
        if (authority == null) {
            throw new IllegalArgumentException("authority: null (expected ip:port or host:port)");
        }
        if (traceParent == null) {
            traceParent = TraceParent.random();
        }
        Map<String, String> lower = new LinkedHashMap<>();
        extraHeaders.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        extraHeaders = Collections.unmodifiableMap(lower);
    }

    /** A CONNECT to {@code authority} with a fresh random {@code traceparent} and nothing else. */
    public static TunnelRequest to(Authority authority) {
        return new TunnelRequest(authority, null, null, TraceParent.random(), Map.of());
    }

    public TunnelRequest withBaggage(String value) {
        return new TunnelRequest(authority, value, forwarded, traceParent, extraHeaders);
    }

    public TunnelRequest withForwarded(String value) {
        return new TunnelRequest(authority, baggage, value, traceParent, extraHeaders);
    }

    public TunnelRequest withHeader(String name, String value) {
        Map<String, String> more = new LinkedHashMap<>(extraHeaders);
        more.put(name, value);
        return new TunnelRequest(authority, baggage, forwarded, traceParent, more);
    }
}
