package io.ambit.waypoint.answer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An answer the waypoint gives itself instead of the upstream's: a denial, a failure to route, a bad
 * request. The one place where each refusal gets its status, body and flag; {@link Replies} turns it into
 * HTTP/1.1 or HTTP/2 (and, for gRPC requests, into a trailers-only response with {@code grpc-status}).
 *
 * <p>Headers are kept as lines, in order, so that a name may repeat: an ext_authz denial that sets two
 * cookies sends two {@code set-cookie} lines. A line replaces the waypoint's own default of the same name
 * ({@code content-type: text/plain}) rather than adding a second one. Immutable.
 */
public final class LocalReply {
    private final int status;
    private final String body;
    private final List<Map.Entry<String, String>> headerLines;
    private final ResponseFlag flag;
    private final boolean closeConnection;
    private final int grpcStatus;

    /**
     * @param status the HTTP status (200-599; a 3xx from an external authorizer is passed on too)
     * @param body the text body (Envoy's wording where Envoy has one)
     * @param headers extra response headers (e.g. {@code www-authenticate}), one value per name
     * @param flag why, for metrics and the access log
     * @param closeConnection whether an HTTP/1.1 connection is closed after it (malformed requests)
     */
    public LocalReply(
            int status, String body, Map<String, String> headers, ResponseFlag flag, boolean closeConnection) {
        this(status, body, headers == null ? List.of() : List.copyOf(headers.entrySet()), flag, closeConnection, -1);
    }

    private LocalReply(
            int status,
            String body,
            List<Map.Entry<String, String>> headerLines,
            ResponseFlag flag,
            boolean closeConnection,
            int grpcStatus) {
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("status: " + status + " (expected: 200-599)");
        }
        if (grpcStatus < -1 || grpcStatus > 16) {
            throw new IllegalArgumentException("grpcStatus: " + grpcStatus + " (expected: 0-16)");
        }
        this.status = status;
        this.body = body == null ? "" : body;
        var lines = new ArrayList<Map.Entry<String, String>>(headerLines.size());
        for (var e : headerLines) {
            // names lower-case (HTTP/2 requires it); entries copied so no caller's mutable entry leaks in
            lines.add(Map.entry(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
        }
        this.headerLines = List.copyOf(lines);
        this.flag = flag == null ? ResponseFlag.NONE : flag;
        this.closeConnection = closeConnection;
        this.grpcStatus = grpcStatus;
    }

    /**
     * A reply with headers given as lines (a name may repeat).
     *
     * @param headerLines lower-case names (folded if not), in the order they are sent
     */
    public static LocalReply withLines(
            int status, String body, List<Map.Entry<String, String>> headerLines, ResponseFlag flag) {
        return new LocalReply(status, body, headerLines, flag, false, -1);
    }

    public int status() {
        return status;
    }

    public String body() {
        return body;
    }

    /** The headers, the first value of each name (see {@link #headerLines()} for all of them). */
    public Map<String, String> headers() {
        var out = new java.util.LinkedHashMap<String, String>();
        for (var e : headerLines) {
            out.putIfAbsent(e.getKey(), e.getValue());
        }
        return out;
    }

    /** Every header line, in order; a name may repeat. */
    public List<Map.Entry<String, String>> headerLines() {
        return headerLines;
    }

    public ResponseFlag flag() {
        return flag;
    }

    public boolean closeConnection() {
        return closeConnection;
    }

    /** 403 {@code RBAC: access denied}: an authorization policy denied the request (gRPC: PERMISSION_DENIED). */
    public static LocalReply forbidden() {
        return new LocalReply(403, "RBAC: access denied", Map.of(), ResponseFlag.NONE, false);
    }

    /**
     * 401 with {@code www-authenticate: Bearer ...}: a bad or unknown token (gRPC: UNAUTHENTICATED). The JWT
     * stage answers with the exact realm of the request; this generic one is for when it gave none.
     */
    public static LocalReply unauthorized(String message) {
        return new LocalReply(
                401,
                message == null || message.isEmpty() ? "Jwt verification fails" : message,
                Map.of("www-authenticate", "Bearer realm=\"http://waypoint\""),
                ResponseFlag.NONE,
                false);
    }

    /**
     * 429 {@code local_rate_limited}: the local rate limit is exhausted (gRPC: UNAVAILABLE). Envoy adds no
     * header of its own; the rate-limit stage adds what the limit configures.
     */
    public static LocalReply rateLimited() {
        return new LocalReply(429, "local_rate_limited", Map.of(), ResponseFlag.RATE_LIMITED, false);
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

    /**
     * 503: the upstream refused the request's stream without processing it (REFUSED_STREAM, or above its GOAWAY's
     * last stream) and it could not be retried (retried once already, or its body was not kept).
     */
    public static LocalReply upstreamRefused() {
        return new LocalReply(
                503,
                "upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset",
                Map.of(),
                ResponseFlag.UPSTREAM_REMOTE_RESET,
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

    /**
     * The gRPC status a gRPC client sees for this reply: the one set with {@link #withGrpcStatus}, else
     * Envoy's HTTP-to-gRPC mapping.
     */
    public int grpcStatus() {
        if (grpcStatus >= 0) {
            return grpcStatus;
        }
        return switch (status) {
            case 400 -> 13; // INTERNAL
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7; // PERMISSION_DENIED
            case 404 -> 12; // UNIMPLEMENTED
            case 429, 502, 503, 504 -> 14; // UNAVAILABLE
            default -> 2; // UNKNOWN
        };
    }

    /** This reply with a gRPC status of its own (a rate limit configured as RESOURCE_EXHAUSTED: 8). */
    public LocalReply withGrpcStatus(int value) {
        return new LocalReply(status, body, headerLines, flag, closeConnection, value);
    }

    /** This reply with {@code extra} set (replacing lines of the same names). */
    public LocalReply withHeaders(Map<String, String> extra) {
        var lines = new ArrayList<Map.Entry<String, String>>();
        for (var e : headerLines) {
            if (!extra.containsKey(e.getKey())) {
                lines.add(e);
            }
        }
        lines.addAll(extra.entrySet());
        return new LocalReply(status, body, lines, flag, closeConnection, grpcStatus);
    }

    /** This reply with more header lines after its own (names may repeat). */
    public LocalReply withHeaderLines(List<Map.Entry<String, String>> more) {
        var lines = new ArrayList<>(headerLines);
        lines.addAll(more);
        return new LocalReply(status, body, lines, flag, closeConnection, grpcStatus);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LocalReply r
                && r.status == status
                && r.body.equals(body)
                && r.headerLines.equals(headerLines)
                && r.flag == flag
                && r.closeConnection == closeConnection
                && r.grpcStatus == grpcStatus;
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, body, headerLines, flag, closeConnection, grpcStatus);
    }

    @Override
    public String toString() {
        return "LocalReply[" + status + " " + body + ", headers " + headerLines + ", flag " + flag.code() + "]";
    }
}
