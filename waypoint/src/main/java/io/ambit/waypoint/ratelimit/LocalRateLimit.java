package io.ambit.waypoint.ratelimit;

import java.util.List;
import java.util.Map;

/**
 * One local rate limit at the waypoint, from the article's EnvoyFilter ({@code envoy.filters.http.local_ratelimit})
 * or Ambit's {@code LocalRateLimit}.
 *
 * @param name                  how logs and decisions name it, e.g. {@code EnvoyFilter production/rate-limit-filter}
 * @param namespace             the policy's namespace
 * @param targets               where it applies; empty: see {@code meshWide} and {@code proxyScoped}
 * @param meshWide              an untargeted policy in the root namespace: every request at every waypoint
 * @param proxyScoped           untargeted and from an EnvoyFilter: it applies to the waypoints of its namespace (Istio
 *                              applies an EnvoyFilter without a selector to every proxy of its namespace), so to every
 *                              request they serve, whichever namespace the service is in; false for Ambit's
 *                              {@code LocalRateLimit}, which without targets means every service of its namespace
 * @param bucket                the token bucket, shared by every request it applies to at this waypoint
 * @param enabled               share of requests that are counted ({@code filter_enabled}; Envoy: none when absent)
 * @param enforced              share of limited requests that are refused ({@code filter_enforced}; Envoy: none when
 *                              absent)
 * @param status                the refusal status (429)
 * @param xRateLimitHeaders     {@code enable_x_ratelimit_headers: DRAFT_VERSION_03}
 * @param perConnection         {@code local_rate_limit_per_downstream_connection}: one bucket per connection
 * @param resourceExhausted     {@code rate_limited_as_resource_exhausted}: gRPC status 8 instead of 14
 * @param responseHeaders       {@code response_headers_to_add}, on the refusal
 * @param requestHeadersIfNotEnforced {@code request_headers_to_add_when_not_enforced}
 */
public record LocalRateLimit(
        String name,
        String namespace,
        List<Target> targets,
        boolean meshWide,
        boolean proxyScoped,
        BucketSpec bucket,
        Fraction enabled,
        Fraction enforced,
        int status,
        boolean xRateLimitHeaders,
        boolean perConnection,
        boolean resourceExhausted,
        List<Map.Entry<String, String>> responseHeaders,
        List<Map.Entry<String, String>> requestHeadersIfNotEnforced) {

    /** A target: a Service, a waypoint (Gateway) of the policy's namespace, or every waypoint. */
    public record Target(Kind kind, String name) {
        public enum Kind {
            SERVICE,
            GATEWAY,
            ALL_WAYPOINTS
        }
    }

    public LocalRateLimit {
        targets = List.copyOf(targets);
        responseHeaders = List.copyOf(responseHeaders);
        requestHeadersIfNotEnforced = List.copyOf(requestHeadersIfNotEnforced);
    }

    /** Whether it applies to a request for {@code service} in {@code ns}, served by waypoint {@code waypoint} of {@code ns}. */
    public boolean appliesTo(String ns, String service, String waypoint) {
        return appliesTo(ns, service, ns, waypoint);
    }

    /**
     * Whether it applies to a request for {@code service} in {@code ns}, served by the waypoint (Gateway)
     * {@code waypointNs/waypoint}. A Gateway target attaches in the policy's namespace, which is the
     * waypoint's, not the service's, when a waypoint serves another namespace
     * ({@code istio.io/use-waypoint-namespace}); Service targets go by the service's namespace; an untargeted
     * EnvoyFilter by the waypoint's, an untargeted {@code LocalRateLimit} by the service's.
     */
    public boolean appliesTo(String ns, String service, String waypointNs, String waypoint) {
        if (targets.isEmpty()) {
            return meshWide || namespace.equals(proxyScoped ? waypointNs : ns);
        }
        for (Target t : targets) {
            boolean hit =
                    switch (t.kind()) {
                        case SERVICE -> namespace.equals(ns) && t.name().equals(service);
                        case GATEWAY -> namespace.equals(waypointNs) && t.name().equals(waypoint);
                        case ALL_WAYPOINTS -> true;
                    };
            if (hit) {
                return true;
            }
        }
        return false;
    }
}
