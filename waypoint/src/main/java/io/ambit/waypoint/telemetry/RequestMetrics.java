package io.ambit.waypoint.telemetry;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.ingress.Peer;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Istio's request metrics as a waypoint reports them ({@code reporter="waypoint"}):
 * {@code istio_requests_total}, {@code istio_request_duration_milliseconds} (Istio's millisecond buckets),
 * {@code istio_request_bytes} and {@code istio_response_bytes}, with Istio's standard labels and
 * {@code unknown} for what is not known. The meters of each label combination are looked up once and
 * cached, so a request costs a hash lookup (or, when it shares its labels with the thread's previous request, a
 * few comparisons) and four increments.
 */
public final class RequestMetrics implements RequestObserver {
    /** Istio's default buckets for request duration, in milliseconds. */
    static final double[] DURATION_MS_BUCKETS = {
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000
    };
    /** Istio's default buckets for request and response sizes, in bytes. */
    static final double[] SIZE_BUCKETS = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

    private static final String UNKNOWN = "unknown";
    /** Response codes as label values, made once. */
    private static final String[] STATUS = new String[600];

    static {
        for (int i = 0; i < STATUS.length; i++) {
            STATUS[i] = Integer.toString(i);
        }
    }

    private final MeterRegistry registry;
    private final String cluster;
    private final ConcurrentHashMap<Labels, Meters> meters = new ConcurrentHashMap<>();
    private final FastThreadLocal<Last> last = new FastThreadLocal<>() {
        @Override
        protected Last initialValue() {
            return new Last();
        }
    };
    // Label values that would otherwise be built per request: a SPIFFE URI is a concatenation (and then a
    // fresh string to hash) each time it is asked for; identities and status codes are few.
    private final ConcurrentHashMap<SpiffeId, String> uris = new ConcurrentHashMap<>();

    /** @param cluster the {@code *_cluster} label value (Istio's cluster id; {@code unknown} when not set) */
    public RequestMetrics(MeterRegistry registry, String cluster) {
        this.registry = registry;
        this.cluster = cluster == null || cluster.isEmpty() ? UNKNOWN : cluster;
    }

    @Override
    public void completed(RequestRecord r) {
        Meters m = metersOf(r);
        m.requests.increment();
        m.duration.record(r.durationNanos() / 1_000_000.0);
        m.requestBytes.record(r.bytesReceived());
        m.responseBytes.record(r.bytesSent());
    }

    /**
     * The meters of the request's label set. Each thread remembers the last set it used: the requests an event loop
     * completes one after the other mostly share their labels (same client, endpoint, service and outcome), and
     * recognising that by comparing a few references is cheaper than building the 21 label values and hashing and
     * comparing them in the map, which only the first request of a set (or a change) does.
     */
    private Meters metersOf(RequestRecord r) {
        Last l = last.get();
        Workload dst = r.endpoint() == null ? null : r.endpoint().workload();
        Service service = r.target().service();
        if (l.meters != null
                && l.destination == dst
                && l.service == service
                && l.status == r.status()
                && l.flag == r.flag()
                && l.grpc == r.grpc()
                && Objects.equals(l.grpcStatus, r.grpcStatus())
                && (l.peer == r.peer() || l.peer.equals(r.peer()))) {
            return l.meters;
        }
        Meters m = meters.computeIfAbsent(labels(r), this::register);
        l.peer = r.peer();
        l.destination = dst;
        l.service = service;
        l.status = r.status();
        l.flag = r.flag();
        l.grpc = r.grpc();
        l.grpcStatus = r.grpcStatus();
        l.meters = m;
        return m;
    }

    /**
     * What the labels of a thread's last request were made of (the peer's identity and workload, the endpoint's
     * workload, the service, the outcome; the cluster is fixed), and the meters they named. Mutable, one per thread.
     */
    private static final class Last {
        Peer peer;
        Workload destination;
        Service service;
        int status;
        ResponseFlag flag;
        boolean grpc;
        String grpcStatus;
        Meters meters;
    }

    private Labels labels(RequestRecord r) {
        Peer peer = r.peer();
        Workload src = peer.workload();
        Workload dst = r.endpoint() == null ? null : r.endpoint().workload();
        var service = r.target().service();
        return new Labels(
                src == null ? UNKNOWN : workloadName(src),
                src == null ? UNKNOWN : canonicalService(src),
                src == null ? UNKNOWN : canonicalRevision(src),
                src == null ? peer.identity().namespace() : src.namespace(),
                uri(peer.identity()),
                src == null ? UNKNOWN : src.labels().getOrDefault("app", UNKNOWN),
                src == null ? UNKNOWN : src.labels().getOrDefault("version", UNKNOWN),
                dst == null ? UNKNOWN : workloadName(dst),
                dst == null ? UNKNOWN : canonicalService(dst),
                dst == null ? UNKNOWN : canonicalRevision(dst),
                dst == null ? UNKNOWN : dst.namespace(),
                dst == null ? UNKNOWN : uri(dst.identity()),
                dst == null ? UNKNOWN : dst.labels().getOrDefault("app", UNKNOWN),
                dst == null ? UNKNOWN : dst.labels().getOrDefault("version", UNKNOWN),
                service.hostname(),
                service.name(),
                service.namespace(),
                r.grpc() ? "grpc" : "http",
                status(r.status()),
                r.grpcStatus() == null ? UNKNOWN : r.grpcStatus(),
                r.flag().code());
    }

    private String uri(SpiffeId id) {
        String uri = uris.get(id);
        if (uri == null) {
            if (uris.size() > 10_000) {
                uris.clear(); // identities churned (a bound, not an expected case)
            }
            uri = id.toString();
            uris.put(id, uri);
        }
        return uri;
    }

    private static String status(int code) {
        return code >= 0 && code < STATUS.length ? STATUS[code] : Integer.toString(code);
    }

    /**
     * The owner's name (a Deployment's, not the pod's), as Istio's waypoint takes {@code workload_name}
     * from workload discovery: dashboards and Kiali group {@code *_workload} by it.
     */
    private static String workloadName(Workload w) {
        return w.workloadName().isEmpty() ? w.name() : w.workloadName();
    }

    private static String canonicalService(Workload w) {
        if (w.canonicalName() != null && !w.canonicalName().isEmpty()) {
            return w.canonicalName();
        }
        return w.labels().getOrDefault("app", w.name());
    }

    private static String canonicalRevision(Workload w) {
        if (w.canonicalRevision() != null && !w.canonicalRevision().isEmpty()) {
            return w.canonicalRevision();
        }
        return w.labels().getOrDefault("version", "latest");
    }

    private Meters register(Labels l) {
        Tags tags = Tags.of(
                        "reporter", "waypoint",
                        "source_workload", l.sourceWorkload,
                        "source_canonical_service", l.sourceCanonicalService,
                        "source_canonical_revision", l.sourceCanonicalRevision,
                        "source_workload_namespace", l.sourceNamespace,
                        "source_principal", l.sourcePrincipal,
                        "source_app", l.sourceApp,
                        "source_version", l.sourceVersion,
                        "source_cluster", cluster)
                .and(
                        "destination_workload", l.destinationWorkload,
                        "destination_canonical_service", l.destinationCanonicalService,
                        "destination_canonical_revision", l.destinationCanonicalRevision,
                        "destination_workload_namespace", l.destinationNamespace,
                        "destination_principal", l.destinationPrincipal,
                        "destination_app", l.destinationApp,
                        "destination_version", l.destinationVersion,
                        "destination_service", l.destinationService,
                        "destination_service_name", l.destinationServiceName,
                        "destination_service_namespace", l.destinationServiceNamespace)
                .and(
                        "destination_cluster", cluster,
                        "request_protocol", l.protocol,
                        "response_code", l.responseCode,
                        "grpc_response_status", l.grpcStatus,
                        "response_flags", l.flags,
                        "connection_security_policy", "mutual_tls");
        return new Meters(
                Counter.builder("istio_requests").tags(tags).register(registry),
                DistributionSummary.builder("istio_request_duration_milliseconds")
                        .serviceLevelObjectives(DURATION_MS_BUCKETS)
                        .tags(tags)
                        .register(registry),
                DistributionSummary.builder("istio_request_bytes")
                        .serviceLevelObjectives(SIZE_BUCKETS)
                        .tags(tags)
                        .register(registry),
                DistributionSummary.builder("istio_response_bytes")
                        .serviceLevelObjectives(SIZE_BUCKETS)
                        .tags(tags)
                        .register(registry));
    }

    private record Meters(
            Counter requests,
            DistributionSummary duration,
            DistributionSummary requestBytes,
            DistributionSummary responseBytes) {}

    private record Labels(
            String sourceWorkload,
            String sourceCanonicalService,
            String sourceCanonicalRevision,
            String sourceNamespace,
            String sourcePrincipal,
            String sourceApp,
            String sourceVersion,
            String destinationWorkload,
            String destinationCanonicalService,
            String destinationCanonicalRevision,
            String destinationNamespace,
            String destinationPrincipal,
            String destinationApp,
            String destinationVersion,
            String destinationService,
            String destinationServiceName,
            String destinationServiceNamespace,
            String protocol,
            String responseCode,
            String grpcStatus,
            String flags) {}
}
