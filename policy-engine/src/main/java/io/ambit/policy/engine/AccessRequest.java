package io.ambit.policy.engine;

import io.ambit.policy.match.IpAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One connection (L4) or one HTTP request (L7) to decide. Values are as observed: the path raw as sent,
 * header names lower-case with every value in arrival order. Absent values are null.
 *
 * @param peer           verified peer identity, null for plaintext
 * @param sourceIp       the direct peer's address
 * @param remoteIp       the original client address (X-Forwarded-For / PROXY); defaults to sourceIp
 * @param destination    where the connection or request goes
 * @param destinationPort the workload (target) port, or -1
 * @param headers        lower-case name to values; a name sent twice has two values
 * @param token          the JWT state ({@link Token#NONE} when no token)
 * @param extAuthz       what the CUSTOM provider answered, or null when it was not asked yet
 * @param time           request time for extended conditions, or null to read the snapshot's clock
 */
public record AccessRequest(
        PeerIdentity peer,
        IpAddress sourceIp,
        IpAddress remoteIp,
        Destination destination,
        IpAddress destinationIp,
        int destinationPort,
        String method,
        String host,
        String path,
        Map<String, List<String>> headers,
        Token token,
        String sni,
        ExtAuthzAnswer extAuthz,
        Instant time) {

    /** The provider's answer to a CUSTOM check. */
    public enum ExtAuthzAnswer {
        ALLOW,
        DENY
    }

    /**
     * The enforcement target: for L4 the destination workload (namespace and labels attach policies);
     * for L7 the Service and waypoint (targetRefs attach policies).
     *
     * <p>{@code namespace} is the service's (or workload's) namespace; Service targetRefs are looked up there.
     * {@code waypointNamespace}/{@code waypoint} name the Gateway the request went through; Gateway
     * targetRefs are looked up there. They differ when a waypoint serves another namespace
     * ({@code istio.io/use-waypoint-namespace}): a policy attached to that Gateway lives in the waypoint's
     * namespace, and a same-named Gateway in the service's namespace is a different Gateway.
     */
    public record Destination(
            String namespace,
            Map<String, String> labels,
            String serviceAccount,
            String service,
            String waypoint,
            String waypointNamespace) {
        public Destination {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            // Unset means the common case, a waypoint in the service's own namespace.
            if (waypointNamespace == null) {
                waypointNamespace = namespace;
            }
        }

        /** A waypoint in the destination's own namespace. */
        public Destination(
                String namespace, Map<String, String> labels, String serviceAccount, String service, String waypoint) {
            this(namespace, labels, serviceAccount, service, waypoint, namespace);
        }

        /** How explanations name the Gateway the request went through: {@code ns/name}, or null. */
        public String gateway() {
            return waypoint == null ? null : (waypointNamespace == null ? "?" : waypointNamespace) + "/" + waypoint;
        }

        /** How explanations name the target: {@code ns/app}, {@code ns/sa} or {@code ns/service}. */
        String describe(boolean l7) {
            String name = l7 && service != null
                    ? service
                    : labels.getOrDefault("app", serviceAccount != null ? serviceAccount : service);
            if (name == null && waypoint != null) {
                return gateway();
            }
            String target = (namespace == null ? "?" : namespace) + "/" + (name == null ? "?" : name);
            // A waypoint in another namespace: say which Gateway's policies were consulted.
            if (l7 && waypoint != null && !Objects.equals(namespace, waypointNamespace)) {
                return target + " (through Gateway " + gateway() + ")";
            }
            return target;
        }
    }

    public AccessRequest {
        headers = headers == null ? Map.of() : lowerCaseNames(headers);
        token = token == null ? Token.NONE : token;
        if (remoteIp == null) {
            remoteIp = sourceIp;
        }
    }

    /** Header names are case-insensitive; matchers look them up lower-case. Copies only when needed. */
    private static Map<String, List<String>> lowerCaseNames(Map<String, List<String>> headers) {
        boolean lower = true;
        for (String name : headers.keySet()) {
            if (!name.equals(name.toLowerCase(java.util.Locale.ROOT))) {
                lower = false;
                break;
            }
        }
        if (lower) {
            return headers;
        }
        var out = new java.util.LinkedHashMap<String, List<String>>();
        headers.forEach(
                (k, v) -> out.computeIfAbsent(k.toLowerCase(java.util.Locale.ROOT), x -> new java.util.ArrayList<>())
                        .addAll(v));
        return out;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds requests in tests, benchmarks and adapters without positional mistakes. */
    public static final class Builder {
        private PeerIdentity peer;
        private IpAddress sourceIp;
        private IpAddress remoteIp;
        private Destination destination = new Destination(null, Map.of(), null, null, null);
        private IpAddress destinationIp;
        private int destinationPort = -1;
        private String method;
        private String host;
        private String path;
        private Map<String, List<String>> headers = Map.of();
        private Token token = Token.NONE;
        private String sni;
        private ExtAuthzAnswer extAuthz;
        private Instant time;

        public Builder peer(String principal) {
            this.peer = principal == null ? null : PeerIdentity.of(principal);
            return this;
        }

        public Builder sourceIp(String ip) {
            this.sourceIp = ip == null ? null : IpAddress.parse(ip);
            return this;
        }

        public Builder remoteIp(String ip) {
            this.remoteIp = ip == null ? null : IpAddress.parse(ip);
            return this;
        }

        public Builder destination(String namespace, Map<String, String> labels) {
            // The waypoint's namespace stays as it was set, unless it only mirrored the old namespace.
            String wpNs = Objects.equals(destination.waypointNamespace(), destination.namespace())
                    ? namespace
                    : destination.waypointNamespace();
            this.destination = new Destination(
                    namespace,
                    labels,
                    destination.serviceAccount(),
                    destination.service(),
                    destination.waypoint(),
                    wpNs);
            return this;
        }

        public Builder destination(Destination d) {
            this.destination = d;
            return this;
        }

        public Builder destinationIp(String ip) {
            this.destinationIp = ip == null ? null : IpAddress.parse(ip);
            return this;
        }

        public Builder port(int port) {
            this.destinationPort = port;
            return this;
        }

        public Builder http(String method, String host, String path) {
            this.method = method;
            this.host = host;
            this.path = path;
            return this;
        }

        public Builder headers(Map<String, List<String>> headers) {
            this.headers = headers;
            return this;
        }

        public Builder token(Token token) {
            this.token = token;
            return this;
        }

        public Builder sni(String sni) {
            this.sni = sni;
            return this;
        }

        public Builder extAuthz(ExtAuthzAnswer a) {
            this.extAuthz = a;
            return this;
        }

        public Builder time(Instant t) {
            this.time = t;
            return this;
        }

        public AccessRequest build() {
            return new AccessRequest(
                    peer,
                    sourceIp,
                    remoteIp,
                    destination,
                    destinationIp,
                    destinationPort,
                    method,
                    host,
                    path,
                    headers,
                    token,
                    sni,
                    extAuthz,
                    time);
        }
    }
}
