package io.ambit.ztunnel.telemetry;

import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ztunnel's connection metrics (ztunnel-reference.md §7.1) with its names and its CommonTrafficLabels, in
 * its order; {@link Labels} is the one place they are built. Names are given without {@code _total}: the
 * Prometheus registry appends it to counters, as ztunnel's {@code prometheus-client} does.
 *
 * <p>One deviation: ztunnel adds {@code source_region}, {@code source_zone}, {@code destination_region}
 * and {@code destination_zone} only when the workload is known; a Prometheus registry wants one label set
 * per name, so here they are always present ({@code unknown} when not known). Bytes are counted when a
 * connection closes, not while it runs.
 *
 * <p>Cost per connection: the counters of a label set are looked up in the registry once and kept in a
 * bounded cache keyed by the label values (a registry lookup builds ~30 tags, sorts them and hashes the
 * meter id: most of what telemetry cost per connection). Each counter is registered at its first use, as
 * before, so no zero-valued series appear. The cache holds at most {@value #MAX_CACHED} label sets and is
 * emptied when full (the registry keeps every meter anyway; the cache only saves the lookups).
 */
public final class TrafficMetrics {
    static final int MAX_CACHED = 4096;

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

    /**
     * Counter{source_workload, …, source_cluster, hostname}: connections that needed a hostname workload's
     * address resolved at connect time (ztunnel-reference.md §7.1), whether the answer was cached or not.
     */
    public static final String ON_DEMAND_DNS = "istio_on_demand_dns";

    /** Gauge{component, tag} = 1, as ztunnel exports it. */
    public static final String BUILD = "istio_build";

    /** The build's version (the jar's Implementation-Version), or {@code unknown} when run from classes. */
    static final String BUILD_TAG = java.util.Objects.requireNonNullElse(
            TrafficMetrics.class.getPackage().getImplementationVersion(), "unknown");

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
    private final ConcurrentHashMap<Key, Meters> meters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Key, Counter> decisions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Key, Counter> onDemandDns = new ConcurrentHashMap<>();

    /**
     * Also registers ztunnel's {@code istio_build{component="ztunnel",tag}} gauge (value 1) in {@code registry}
     * (Istio's ztunnel dashboard counts and versions ztunnels by it) and its process file-descriptor gauges
     * ({@link ProcessMetrics}). Registering them again is a no-op.
     */
    public TrafficMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder(BUILD, () -> 1)
                .description("Ztunnel build information")
                .tags("component", "ztunnel", "tag", BUILD_TAG)
                .register(registry);
        ProcessMetrics.bindTo(registry);
    }

    /** One authorization decision at {@code reporter} ({@code destination} for ztunnel's inbound). */
    public void decided(String reporter, String policy, boolean allowed) {
        String policyName = policy == null ? "none" : policy;
        String decision = allowed ? "ALLOW" : "DENY";
        var key = new Key(new String[] {reporter, policyName, decision});
        Counter counter = decisions.get(key);
        if (counter == null) {
            counter = registry.counter(DECISIONS, "reporter", reporter, "policy", policyName, "decision", decision);
            cache(decisions, key, counter);
        }
        counter.increment();
    }

    /**
     * A connection from {@code source} (null when no workload) needs the address of {@code hostname}, a
     * workload's DNS name: counted with ztunnel's labels ({@code OnDemandDnsLabels}), the source's eight and
     * the hostname.
     */
    public void onDemandDns(Workload source, String sourcePrincipal, String hostname) {
        String[] v = new String[ON_DEMAND_DNS_NAMES.length];
        int i = Labels.workload(v, 0, source, sourcePrincipal);
        v[i] = Labels.value(hostname);
        var key = new Key(v);
        Counter counter = onDemandDns.get(key);
        if (counter == null) {
            List<Tag> t = new ArrayList<>(v.length);
            for (int j = 0; j < v.length; j++) {
                t.add(Tag.of(ON_DEMAND_DNS_NAMES[j], v[j]));
            }
            counter = Counter.builder(ON_DEMAND_DNS)
                    .description("The total number of requests that used on-demand DNS")
                    .tags(Tags.of(t))
                    .register(registry);
            cache(onDemandDns, key, counter);
        }
        counter.increment();
    }

    private static final String[] ON_DEMAND_DNS_NAMES = {
        "source_workload",
        "source_canonical_service",
        "source_canonical_revision",
        "source_workload_namespace",
        "source_principal",
        "source_app",
        "source_version",
        "source_cluster",
        "hostname"
    };

    /** A connection was accepted past authorization. */
    public void opened(Labels labels) {
        meters(labels).opened().increment();
    }

    /**
     * A connection ended (or was refused: then {@link Labels#responseFlags()} says why).
     *
     * @param received bytes in the request direction (client → destination)
     * @param sent     bytes in the response direction (destination → client)
     */
    public void closed(Labels labels, long received, long sent) {
        Meters m = meters(labels);
        m.closed().increment();
        m.received().increment(received);
        m.sent().increment(sent);
        if (FAILURE_FLAGS.contains(labels.responseFlags())) {
            m.failed().increment();
        }
    }

    private Meters meters(Labels labels) {
        var key = new Key(labels.values());
        Meters m = meters.get(key);
        if (m == null) {
            m = new Meters(registry, labels.tags());
            cache(meters, key, m);
        }
        return m;
    }

    private static <V> void cache(ConcurrentHashMap<Key, V> cache, Key key, V value) {
        if (cache.size() >= MAX_CACHED) {
            cache.clear(); // label sets churn only with the mesh; the registry still has every meter
        }
        cache.putIfAbsent(key, value);
    }

    /** Label values in their order: equal values, equal series. */
    private record Key(String[] values) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(values, k.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return Arrays.toString(values);
        }
    }

    /**
     * The counters of one label set, each registered at its first use (a racing second registration returns
     * the same meter from the registry).
     */
    private static final class Meters {
        private final MeterRegistry registry;
        private final Tags tags;
        private Counter opened;
        private Counter closed;
        private Counter received;
        private Counter sent;
        private Counter failed;

        Meters(MeterRegistry registry, Tags tags) {
            this.registry = registry;
            this.tags = tags;
        }

        Counter opened() {
            Counter c = opened;
            return c != null ? c : (opened = registry.counter(OPENED, tags));
        }

        Counter closed() {
            Counter c = closed;
            return c != null ? c : (closed = registry.counter(CLOSED, tags));
        }

        Counter received() {
            Counter c = received;
            return c != null ? c : (received = registry.counter(RECEIVED_BYTES, tags));
        }

        Counter sent() {
            Counter c = sent;
            return c != null ? c : (sent = registry.counter(SENT_BYTES, tags));
        }

        Counter failed() {
            Counter c = failed;
            return c != null ? c : (failed = registry.counter(FAILED, tags));
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

        /** The label names in ztunnel's order, as {@link #values()} fills them. */
        private static final String[] NAMES = {
            "reporter",
            "source_workload",
            "source_canonical_service",
            "source_canonical_revision",
            "source_workload_namespace",
            "source_principal",
            "source_app",
            "source_version",
            "source_cluster",
            "destination_service",
            "destination_service_namespace",
            "destination_service_name",
            "destination_workload",
            "destination_canonical_service",
            "destination_canonical_revision",
            "destination_workload_namespace",
            "destination_principal",
            "destination_app",
            "destination_version",
            "destination_cluster",
            "request_protocol",
            "response_flags",
            "connection_security_policy",
            "source_region",
            "source_zone",
            "destination_region",
            "destination_zone"
        };

        /** The labels in ztunnel's order. */
        public Tags tags() {
            String[] values = values();
            List<Tag> t = new ArrayList<>(NAMES.length);
            for (int i = 0; i < NAMES.length; i++) {
                t.add(Tag.of(NAMES[i], values[i]));
            }
            return Tags.of(t);
        }

        /** The label values in the order of {@link #NAMES}, {@code unknown} for any missing. */
        String[] values() {
            String[] v = new String[NAMES.length];
            int i = 0;
            v[i++] = value(reporter);
            i = workload(v, i, source, sourcePrincipal);
            v[i++] = value(service == null ? null : service.hostname());
            v[i++] = value(service == null ? null : service.namespace());
            v[i++] = value(service == null ? null : service.name());
            i = workload(v, i, destination, destinationPrincipal);
            v[i++] = "tcp";
            v[i++] = value(responseFlags == null ? "-" : responseFlags);
            v[i++] = mutualTls ? "mutual_tls" : UNKNOWN;
            v[i++] = value(source == null ? null : source.locality().region());
            v[i++] = value(source == null ? null : source.locality().zone());
            v[i++] = value(destination == null ? null : destination.locality().region());
            v[i++] = value(destination == null ? null : destination.locality().zone());
            return v;
        }

        /**
         * A workload's eight labels as ztunnel fills them ({@code CommonTrafficLabels::with_source}): the
         * workload is the owner's name (a Deployment's, not the pod's: dashboards and Kiali group by it),
         * {@code *_app}/{@code *_version} are the canonical service and revision (ztunnel has no pod labels),
         * the cluster is the workload's cluster id.
         */
        private static int workload(String[] v, int i, Workload w, String principal) {
            v[i++] = value(w == null ? null : w.workloadName());
            v[i++] = value(w == null ? null : w.canonicalName());
            v[i++] = value(w == null ? null : w.canonicalRevision());
            v[i++] = value(w == null ? null : w.namespace());
            v[i++] = value(principal);
            v[i++] = value(w == null ? null : w.canonicalName());
            v[i++] = value(w == null ? null : w.canonicalRevision());
            v[i++] = value(w == null ? null : w.clusterId());
            return i;
        }

        private static String value(String value) {
            return value == null || value.isEmpty() ? UNKNOWN : value;
        }
    }
}
