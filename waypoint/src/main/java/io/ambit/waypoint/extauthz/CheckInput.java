package io.ambit.waypoint.extauthz;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a provider learns about one request. Build with {@link #builder()}.
 *
 * @param method               request method
 * @param scheme               {@code http} or {@code https}
 * @param authority            {@code :authority} / {@code Host}
 * @param path                 request target as sent (path and query)
 * @param protocol             {@code HTTP/1.1} or {@code HTTP/2}
 * @param headers              lower-case names, every value in arrival order (the ext_authz check sees all
 *                             of them, joined, never only the last: CVE-2021-32777)
 * @param source               the downstream peer's address, or null
 * @param sourcePrincipal      its SPIFFE identity ({@code spiffe://td/ns/x/sa/y}), null for plaintext
 * @param destination          where the request goes, or null
 * @param destinationPrincipal the waypoint's own identity, or null
 * @param requestId            {@code x-request-id}, or null
 * @param time                 when the request arrived, or null
 * @param body                 the buffered body (at most the provider's {@code maxRequestBytes}), or null
 * @param bodyTruncated        whether the body was longer than what {@code body} holds
 * @param bodySize             the body's full size when known ({@code content-length}), else -1
 */
public record CheckInput(
        String method,
        String scheme,
        String authority,
        String path,
        String protocol,
        Map<String, List<String>> headers,
        InetSocketAddress source,
        String sourcePrincipal,
        InetSocketAddress destination,
        String destinationPrincipal,
        String requestId,
        Instant time,
        byte[] body,
        boolean bodyTruncated,
        long bodySize) {

    public CheckInput {
        var h = new LinkedHashMap<String, List<String>>();
        if (headers != null) {
            headers.forEach((k, v) -> h.computeIfAbsent(k.toLowerCase(Locale.ROOT), x -> new ArrayList<>())
                    .addAll(v));
        }
        headers = h;
        scheme = scheme == null ? "http" : scheme;
        protocol = protocol == null ? "HTTP/1.1" : protocol;
    }

    /** Every value of a header joined as Envoy merges them: {@code ,} (cookies {@code ; }); null when absent. */
    String joined(String lowerName) {
        var v = headers.get(lowerName);
        if (v == null || v.isEmpty()) {
            return null;
        }
        return String.join(lowerName.equals("cookie") ? "; " : ",", v);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Fills a {@link CheckInput} field by field. */
    public static final class Builder {
        private String method;
        private String scheme = "http";
        private String authority;
        private String path;
        private String protocol = "HTTP/1.1";
        private Map<String, List<String>> headers = Map.of();
        private InetSocketAddress source;
        private String sourcePrincipal;
        private InetSocketAddress destination;
        private String destinationPrincipal;
        private String requestId;
        private Instant time;
        private byte[] body;
        private boolean bodyTruncated;
        private long bodySize = -1;

        public Builder request(String method, String scheme, String authority, String path, String protocol) {
            this.method = method;
            this.scheme = scheme;
            this.authority = authority;
            this.path = path;
            this.protocol = protocol;
            return this;
        }

        public Builder headers(Map<String, List<String>> headers) {
            this.headers = headers;
            return this;
        }

        public Builder source(InetSocketAddress address, String principal) {
            this.source = address;
            this.sourcePrincipal = principal;
            return this;
        }

        public Builder destination(InetSocketAddress address, String principal) {
            this.destination = address;
            this.destinationPrincipal = principal;
            return this;
        }

        public Builder requestId(String id) {
            this.requestId = id;
            return this;
        }

        public Builder time(Instant t) {
            this.time = t;
            return this;
        }

        /**
         * The body as buffered.
         *
         * @param truncated whether more bytes followed than {@code body} holds
         * @param size      the full size when known, else -1
         */
        public Builder body(byte[] body, boolean truncated, long size) {
            this.body = body;
            this.bodyTruncated = truncated;
            this.bodySize = size;
            return this;
        }

        public CheckInput build() {
            return new CheckInput(
                    method,
                    scheme,
                    authority,
                    path,
                    protocol,
                    headers,
                    source,
                    sourcePrincipal,
                    destination,
                    destinationPrincipal,
                    requestId,
                    time,
                    body,
                    bodyTruncated,
                    bodySize);
        }
    }
}
