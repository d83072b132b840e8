package io.ambit.waypoint.ratelimit;

import java.util.List;
import java.util.Map;

/**
 * The rate-limit stage's answer for one request.
 *
 * <p>Refused ({@code !allowed}): answer with {@link #status()} (429), body {@link #body()}
 * ({@code local_rate_limited}, text/plain, as Envoy), {@link #responseHeaders()} and {@link #rateLimitHeaders()};
 * for gRPC use {@link #grpcStatus()} (14 UNAVAILABLE, or 8 RESOURCE_EXHAUSTED when configured) in the trailers;
 * the response flag is {@code RL}. Allowed: add {@link #requestHeaders()} to the upstream request (limited
 * but not enforced) and {@link #rateLimitHeaders()} to the response.
 *
 * @param allowed          whether the request continues
 * @param limited          whether some bucket was empty (even if not enforced)
 * @param policy           the limit that refused or marked it, or null
 * @param status           the refusal status, 0 when allowed
 * @param body             the refusal body
 * @param grpcStatus       the gRPC status for a refused gRPC request
 * @param responseHeaders  headers of the refusal ({@code response_headers_to_add})
 * @param requestHeaders   headers for the upstream request when limited but not enforced
 * @param rateLimitHeaders {@code x-ratelimit-limit/remaining/reset} when enabled, for the response
 */
public record RateLimitDecision(
        boolean allowed,
        boolean limited,
        String policy,
        int status,
        String body,
        int grpcStatus,
        List<Map.Entry<String, String>> responseHeaders,
        List<Map.Entry<String, String>> requestHeaders,
        List<Map.Entry<String, String>> rateLimitHeaders) {

    /** Envoy's local reply body. */
    public static final String BODY = "local_rate_limited";

    public static final RateLimitDecision UNLIMITED =
            new RateLimitDecision(true, false, null, 0, "", 0, List.of(), List.of(), List.of());

    public RateLimitDecision {
        responseHeaders = List.copyOf(responseHeaders);
        requestHeaders = List.copyOf(requestHeaders);
        rateLimitHeaders = List.copyOf(rateLimitHeaders);
    }
}
