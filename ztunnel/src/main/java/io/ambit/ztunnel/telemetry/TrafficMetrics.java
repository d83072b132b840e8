package io.ambit.ztunnel.telemetry;

import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * ztunnel's connection metrics (ztunnel-reference.md §7.1) with its names and its CommonTrafficLabels, in
 * its order; {@link Labels} is the one place they are built. Names are given without {@code _total}: the
 * Prometheus registry appends it to counters, as ztunnel's {@code prometheus-client} does.
 *
 * <p>One deviation: ztunnel adds {@code source_region}, {@code source_zone}, {@code destination_region}
 * and {@code destination_zone} only when the workload is known; a Prometheus registry wants one label set
 * per name, so here they are always present ({@code unknown} when not known; workloads carry no locality
 * yet). Bytes are counted when a connection closes, not while it runs.
 */
public final class TrafficMetrics {
    public static final String OPENED = "istio_tcp_connections_opened";
    public static final String CLOSED = "istio_tcp_connections_closed";
    public static final String RECEIVED_BYTES = "istio_tcp_received_bytes";
    public static final String SENT_BYTES = "istio_tcp_sent_bytes";
    public static final String FAILED = "istio_tcp_connections_failed";

    /**
     * Counter{reporter, policy, decision}: authorization decisions by the policy that decided ({@code ns/name},
     * {@code none} when no policy matched). No Istio equivalent; bounded by the number of policies.
     */
    public static final String DECISIONS = "ambit_authorization_decisions";

    /** What Istio renders for a value it does not know. */
    public static final String UNKNOWN = "unknown";

    /** The response flags that count a connection as failed. */
    static final Set<String> FAILURE_FLAGS = Set.of(
            "CONNECT",
            "DENY",
            "TLS_FAILURE",
            "H2_HANDSHAKE_FAILURE",
            "NETWORK_POLICY",
            "IDENTITY_ERROR",
            "CERT_REVOKED");

    private final MeterRegistry registry;

    public TrafficMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** One authorization decision at {@code reporter} ({@code destination} for ztunnel's inbound). */
    public void decided(String reporter, String policy, boolean allowed) {
        registry.counter(
                        DECISIONS,
                        "reporter",
                        reporter,
                        "policy",
                        policy == null ? "none" : policy,
                        "decision",
                        allowed ? "ALLOW" : "DENY")
                .increment();
    }

    /** A connection was accepted past authorization. */
    public void opened(Labels labels) {
        registry.counter(OPENED, labels.tags()).increment();
    }

    /**
     * A connection ended (or was refused: then {@link Labels#responseFlags()} says why).
     *
     * @param received bytes in the request direction (client → destination)
     * @param sent     bytes in the response direction (destination → client)
     */
    public void closed(Labels labels, long received, long sent) {
        Tags tags = labels.tags();
        registry.counter(CLOSED, tags).increment();
        registry.counter(RECEIVED_BYTES, tags).increment(received);
        registry.counter(SENT_BYTES, tags).increment(sent);
        if (FAILURE_FLAGS.contains(labels.responseFlags())) {
            registry.counter(FAILED, tags).increment();
        }
    }

    /**
     * CommonTrafficLabels of one connection; any null is rendered {@code unknown}.
     *
     * @param reporter       {@code source} (outbound) or {@code destination} (inbound)
     * @param source         the source workload, or null
     * @param sourcePrincipal the source's SPIFFE id, or null (plaintext)
     * @param service        the destination service, or null
     * @param destination    the destination workload, or null
     * @param destinationPrincipal the destination's SPIFFE id, or null
     * @param responseFlags  {@code -} when fine, else {@code DENY}, {@code CONNECT}, ...
     * @param mutualTls      whether the connection was mTLS ({@code connection_security_policy})
     */
    public record Labels(
            String reporter,
            Workload source,
            String sourcePrincipal,
            Service service,
            Workload destination,
            String destinationPrincipal,
            String responseFlags,
            boolean mutualTls) {

        public Labels withResponseFlags(String flags) {
            return new Labels(
                    reporter, source, sourcePrincipal, service, destination, destinationPrincipal, flags, mutualTls);
        }

        /** The labels in ztunnel's order. */
        public Tags tags() {
            List<Tag> t = new ArrayList<>(32);
            add(t, "reporter", reporter);
            workload(t, "source", source, sourcePrincipal);
            add(t, "destination_service", service == null ? null : service.hostname());
            add(t, "destination_service_namespace", service == null ? null : service.namespace());
            add(t, "destination_service_name", service == null ? null : service.name());
            workload(t, "destination", destination, destinationPrincipal);
            add(t, "request_protocol", "tcp");
            add(t, "response_flags", responseFlags == null ? "-" : responseFlags);
            add(t, "connection_security_policy", mutualTls ? "mutual_tls" : UNKNOWN);
            add(t, "source_region", null);
            add(t, "source_zone", null);
            add(t, "destination_region", null);
            add(t, "destination_zone", null);
            return Tags.of(t);
        }

        private static void workload(List<Tag> t, String side, Workload w, String principal) {
            add(t, side + "_workload", w == null ? null : w.name());
            add(t, side + "_canonical_service", w == null ? null : w.canonicalName());
            add(t, side + "_canonical_revision", w == null ? null : w.canonicalRevision());
            add(t, side + "_workload_namespace", w == null ? null : w.namespace());
            add(t, side + "_principal", principal);
            add(t, side + "_app", w == null ? null : w.labels().get("app"));
            add(t, side + "_version", w == null ? null : w.labels().get("version"));
            add(t, side + "_cluster", null);
        }

        private static void add(List<Tag> t, String key, String value) {
            t.add(Tag.of(key, value == null || value.isEmpty() ? UNKNOWN : value));
        }
    }
}
