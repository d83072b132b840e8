package io.ambit.policy.mesh;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One entry of the mesh's {@code extensionProviders}. CUSTOM AuthorizationPolicies name one; the waypoint
 * calls an {@link ExtAuthzHttp} or {@link ExtAuthzGrpc} provider. Other kinds (tracing, access logs) are
 * kept by name and kind only.
 */
public sealed interface ExtensionProvider
        permits ExtensionProvider.ExtAuthzHttp, ExtensionProvider.ExtAuthzGrpc, ExtensionProvider.Other {
    /** Istio's default provider timeout when none is given. */
    Duration DEFAULT_TIMEOUT = Duration.ofSeconds(600);

    /** Envoy's status when the provider cannot be asked and {@code statusOnError} is not set. */
    int DEFAULT_STATUS_ON_ERROR = 403;

    /** The name CUSTOM policies use in {@code provider.name}. */
    String name();

    /**
     * {@code includeRequestBodyInCheck}: the request body goes to the provider, buffered up to
     * {@code maxRequestBytes}; a longer body is cut when {@code allowPartialMessage}, else refused with 413.
     */
    record RequestBody(int maxRequestBytes, boolean allowPartialMessage, boolean packAsBytes) {
        /** The most a waypoint buffers per request for a provider. */
        public static final int MAX_BYTES = 4 * 1024 * 1024;
    }

    /**
     * {@code envoyExtAuthzHttp}: the check is an HTTP request to {@code service:port} with the original method
     * and {@code pathPrefix + path}; 200 allows, 5xx or no answer is an error, anything else denies.
     *
     * @param service                         {@code [<namespace>/]<hostname>} as written
     * @param includeRequestHeadersInCheck    request headers sent besides Host, Method, Path, Authorization
     *                                        (the deprecated {@code includeHeadersInCheck} when unset)
     * @param includeAdditionalHeadersInCheck fixed headers added to (or replacing those of) the check
     * @param headersToUpstreamOnAllow        provider response headers that replace request headers on allow
     * @param headersToDownstreamOnDeny       provider response headers sent to the client on deny; empty: all
     *                                        but Host
     * @param headersToDownstreamOnAllow      provider response headers added to the response on allow
     * @param includeRequestBodyInCheck       null when the body is not sent
     */
    record ExtAuthzHttp(
            String name,
            String service,
            int port,
            Duration timeout,
            String pathPrefix,
            boolean failOpen,
            int statusOnError,
            List<HeaderPattern> includeRequestHeadersInCheck,
            Map<String, String> includeAdditionalHeadersInCheck,
            List<HeaderPattern> headersToUpstreamOnAllow,
            List<HeaderPattern> headersToDownstreamOnDeny,
            List<HeaderPattern> headersToDownstreamOnAllow,
            RequestBody includeRequestBodyInCheck)
            implements ExtensionProvider {
        public ExtAuthzHttp {
            includeRequestHeadersInCheck = List.copyOf(includeRequestHeadersInCheck);
            includeAdditionalHeadersInCheck = Map.copyOf(includeAdditionalHeadersInCheck);
            headersToUpstreamOnAllow = List.copyOf(headersToUpstreamOnAllow);
            headersToDownstreamOnDeny = List.copyOf(headersToDownstreamOnDeny);
            headersToDownstreamOnAllow = List.copyOf(headersToDownstreamOnAllow);
            pathPrefix = pathPrefix == null ? "" : pathPrefix;
        }

        /** The host to connect to: {@code service} without its {@code namespace/} part. */
        public String host() {
            return ExtensionProvider.host(service);
        }
    }

    /**
     * {@code envoyExtAuthzGrpc}: the check is {@code envoy.service.auth.v3.Authorization/Check} on
     * {@code service:port}.
     */
    record ExtAuthzGrpc(
            String name,
            String service,
            int port,
            Duration timeout,
            boolean failOpen,
            int statusOnError,
            RequestBody includeRequestBodyInCheck)
            implements ExtensionProvider {
        public String host() {
            return ExtensionProvider.host(service);
        }
    }

    /**
     * A provider the waypoint does not call: another Istio kind ({@code zipkin}, {@code envoyOtelAls}...),
     * or only a name (Ambit's short form).
     *
     * @param kind the Istio key, e.g. {@code zipkin}; null when only the name was given
     */
    record Other(String name, String kind) implements ExtensionProvider {}

    /** Istio's other provider kinds, accepted and kept by name. */
    Set<String> OTHER_KINDS = Set.of(
            "zipkin",
            "lightstep",
            "datadog",
            "stackdriver",
            "opencensus",
            "skywalking",
            "opentelemetry",
            "prometheus",
            "envoyFileAccessLog",
            "envoyHttpAls",
            "envoyTcpAls",
            "envoyOtelAls",
            "sds");

    /** The HTTP statuses Envoy's {@code type.v3.StatusCode} names: the values {@code statusOnError} may take. */
    Set<Integer> ENVOY_STATUS_CODES = Set.of(
            100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401,
            402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426,
            428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511);

    private static String host(String service) {
        int slash = service.indexOf('/');
        return slash < 0 ? service : service.substring(slash + 1);
    }
}
