package io.ambit.waypoint.answer;

import java.util.Map;

/**
 * An answer the waypoint gives itself instead of the upstream's: a denial, a failure to route, a bad
 * request. The one place where each refusal gets its status, body and flag; {@link Replies} turns it into
 * HTTP/1.1 or HTTP/2 (and, for gRPC requests, into a trailers-only response with {@code grpc-status}).
 *
 * @param status the HTTP status
 * @param body the text body (Envoy's wording where Envoy has one)
 * @param headers extra response headers (e.g. {@code www-authenticate}, an authorizer's allowed headers)
 * @param flag why, for metrics and the access log
 * @param closeConnection whether an HTTP/1.1 connection is closed after it (malformed requests)
 */
public record LocalReply(
        int status, String body, Map<String, String> headers, ResponseFlag flag, boolean closeConnection) {

    public LocalReply {
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("status: " + status + " (expected: 200-599)");
        }
        body = body == null ? "" : body;
        headers = headers == null ? Map.of() : Map.copyOf(headers);
        flag = flag == null ? ResponseFlag.NONE : flag;
    }

    /** 403 {@code RBAC: access denied}: an authorization policy denied the request (gRPC: PERMISSION_DENIED). */
    public static LocalReply forbidden() {
        return new LocalReply(403, "RBAC: access denied", Map.of(), ResponseFlag.NONE, false);
    }

    /** 401 with {@code www-authenticate: Bearer ...}: a bad or unknown token (gRPC: UNAUTHENTICATED). */
    public static LocalReply unauthorized(String message) {
        return new LocalReply(
                401,
                message == null || message.isEmpty() ? "Jwt verification fails" : message,
                Map.of("www-authenticate", "Bearer realm=\"http://waypoint\""),
                ResponseFlag.NONE,
                false);
    }

    /** 429: the local rate limit is exhausted (gRPC: UNAVAILABLE). */
    public static LocalReply rateLimited() {
        return new LocalReply(
                429, "local_rate_limited", Map.of("x-ratelimit-limited", "true"), ResponseFlag.RATE_LIMITED, false);
    }

    /** 400: a malformed request; the HTTP/1.1 connection is closed after it. */
    public static LocalReply badRequest(String why) {
        return new LocalReply(400, "Bad Request: " + why, Map.of(), ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR, true);
    }

    /** 503: the destination service has no endpoint that can take the request. */
    public static LocalReply noHealthyUpstream() {
        return new LocalReply(503, "no healthy upstream", Map.of(), ResponseFlag.NO_HEALTHY_UPSTREAM, false);
    }

    /** 503: the tunnel to the endpoint could not be opened (after the retry, if any). */
    public static LocalReply upstreamConnectFailure(String reason) {
        return new LocalReply(
                503,
                "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
                        + (reason == null ? "" : ", transport failure reason: " + reason),
                Map.of(),
                ResponseFlag.UPSTREAM_CONNECTION_FAILURE,
                false);
    }

    /** 503: the upstream connection ended before any response header. */
    public static LocalReply upstreamReset() {
        return new LocalReply(
                503,
                "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
                Map.of(),
                ResponseFlag.UPSTREAM_CONNECTION_TERMINATION,
                false);
    }

    /** 502: the upstream answered with something that is not HTTP. */
    public static LocalReply upstreamProtocolError() {
        return new LocalReply(502, "upstream protocol error", Map.of(), ResponseFlag.UPSTREAM_PROTOCOL_ERROR, false);
    }

    /** 504: no response from the upstream within the route timeout. */
    public static LocalReply upstreamTimeout() {
        return new LocalReply(504, "upstream request timeout", Map.of(), ResponseFlag.UPSTREAM_REQUEST_TIMEOUT, false);
    }

    /** 500: a pipeline stage failed; the request is refused (fail closed). */
    public static LocalReply internalError(String why) {
        return new LocalReply(500, "internal error: " + why, Map.of(), ResponseFlag.NONE, false);
    }

    /** The gRPC status a gRPC client sees for this reply (Envoy's HTTP-to-gRPC mapping). */
    public int grpcStatus() {
        return switch (status) {
            case 400 -> 13; // INTERNAL
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7; // PERMISSION_DENIED
            case 404 -> 12; // UNIMPLEMENTED
            case 429, 502, 503, 504 -> 14; // UNAVAILABLE
            default -> 2; // UNKNOWN
        };
    }

    public LocalReply withHeaders(Map<String, String> extra) {
        var merged = new java.util.LinkedHashMap<>(headers);
        merged.putAll(extra);
        return new LocalReply(status, body, merged, flag, closeConnection);
    }
}
