package io.ambit.waypoint.extauthz;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * One header change an ext_authz answer asks for, on the upstream request or on the response to the
 * client. Names are lower-case and were checked to be safe to write (no pseudo-headers, no framing or
 * hop-by-hop headers, no control characters in values).
 *
 * @param name   lower-case header name
 * @param value  the value
 * @param action how it meets an existing header of that name
 */
public record HeaderOp(String name, String value, Action action) {
    /** Envoy's {@code HeaderAppendAction}, plus the provider-style "set" (overwrite or add). */
    public enum Action {
        /** add another value (Envoy APPEND_IF_EXISTS_OR_ADD) */
        APPEND,
        /** replace every value, or add (OVERWRITE_IF_EXISTS_OR_ADD) */
        SET,
        /** only when the header is absent */
        ADD_IF_ABSENT,
        /** only when the header is present */
        OVERWRITE_IF_EXISTS
    }

    /** Applies the change to HTTP/1.1 headers. */
    public void apply(HttpHeaders headers) {
        switch (action) {
            case APPEND -> headers.add(name, value);
            case SET -> headers.set(name, value);
            case ADD_IF_ABSENT -> {
                if (!headers.contains(name)) {
                    headers.add(name, value);
                }
            }
            case OVERWRITE_IF_EXISTS -> {
                if (headers.contains(name)) {
                    headers.set(name, value);
                }
            }
        }
    }

    /** Applies the change to HTTP/2 headers. */
    public void apply(Http2Headers headers) {
        switch (action) {
            case APPEND -> headers.add(name, value);
            case SET -> headers.set(name, value);
            case ADD_IF_ABSENT -> {
                if (!headers.contains(name)) {
                    headers.add(name, value);
                }
            }
            case OVERWRITE_IF_EXISTS -> {
                if (headers.contains(name)) {
                    headers.set(name, value);
                }
            }
        }
    }
}
