package io.ambit.ztunnel.dns;

import io.ambit.xds.mesh.Workload;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ztunnel's DNS proxy metrics (ztunnel-reference.md §7.1), with its names and labels: counters
 * {@code istio_dns_requests_total}, {@code istio_dns_upstream_requests_total},
 * {@code istio_dns_upstream_failures_total} and the histogram
 * {@code istio_dns_upstream_request_duration_seconds} (buckets .0005 .001 .01 .1 1 5), each labelled
 * {@code request_query_type} (lower-case type name, {@code a}), {@code request_protocol} ({@code udp} or
 * {@code tcp}), {@code source_canonical_service} and {@code source_canonical_revision}. Counter names are
 * given without {@code _total} and the timer without {@code _seconds}: the Prometheus registry appends them.
 *
 * <p>The label sets are bounded: query types are the 65,536 possible codes at most, and in practice the
 * handful clients ask; the canonical names are those of the proxied workloads. Meters are kept in a map
 * emptied when it reaches {@value #MAX_CACHED} entries (the registry keeps them anyway).
 */
public final class DnsMetrics {
    public static final String REQUESTS = "istio_dns_requests";
    public static final String UPSTREAM_REQUESTS = "istio_dns_upstream_requests";
    public static final String UPSTREAM_FAILURES = "istio_dns_upstream_failures";
    public static final String UPSTREAM_DURATION = "istio_dns_upstream_request_duration";
    static final int MAX_CACHED = 1024;
    private static final Duration[] BUCKETS = {
        Duration.ofNanos(500_000),
        Duration.ofMillis(1),
        Duration.ofMillis(10),
        Duration.ofMillis(100),
        Duration.ofSeconds(1),
        Duration.ofSeconds(5)
    };

    /** The labels of one query. */
    public record Labels(String queryType, String protocol, String canonicalService, String canonicalRevision) {
        static Labels of(int queryType, String protocol, Workload client) {
            return new Labels(
                    typeName(queryType),
                    protocol,
                    value(client == null ? null : client.canonicalName()),
                    value(client == null ? null : client.canonicalRevision()));
        }

        private Tags tags() {
            return Tags.of(
                    "request_query_type", queryType,
                    "request_protocol", protocol,
                    "source_canonical_service", canonicalService,
                    "source_canonical_revision", canonicalRevision);
        }
    }

    private record Meters(Counter requests, Counter upstream, Counter failures, Timer duration) {}

    private final MeterRegistry registry;
    private final ConcurrentHashMap<Labels, Meters> meters = new ConcurrentHashMap<>();

    public DnsMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void request(Labels labels) {
        meters(labels).requests().increment();
    }

    void upstreamRequest(Labels labels) {
        meters(labels).upstream().increment();
    }

    void upstreamFailure(Labels labels) {
        meters(labels).failures().increment();
    }

    void upstreamDuration(Labels labels, long nanos) {
        meters(labels).duration().record(Duration.ofNanos(nanos));
    }

    private Meters meters(Labels labels) {
        var m = meters.get(labels);
        if (m != null) {
            return m;
        }
        if (meters.size() >= MAX_CACHED) {
            meters.clear();
        }
        var tags = labels.tags();
        m = new Meters(
                Counter.builder(REQUESTS)
                        .description("Total number of DNS requests")
                        .tags(tags)
                        .register(registry),
                Counter.builder(UPSTREAM_REQUESTS)
                        .description("Total number of DNS requests forwarded to upstream")
                        .tags(tags)
                        .register(registry),
                Counter.builder(UPSTREAM_FAILURES)
                        .description("Total number of DNS requests that failed to forward upstream")
                        .tags(tags)
                        .register(registry),
                Timer.builder(UPSTREAM_DURATION)
                        .description("Total time for upstream DNS requests")
                        .serviceLevelObjectives(BUCKETS)
                        .tags(tags)
                        .register(registry));
        meters.put(labels, m);
        return m;
    }

    /** ztunnel's label: the record type's name in lower case ({@code a}, {@code aaaa}, {@code srv}). */
    static String typeName(int type) {
        var t = io.netty.handler.codec.dns.DnsRecordType.valueOf(type);
        String name = t.name();
        // Netty names unknown codes "UNKNOWN(n)": keep the code, which stays a bounded label value
        return name.startsWith("UNKNOWN") ? "type" + type : name.toLowerCase(Locale.ROOT);
    }

    private static String value(String s) {
        return s == null || s.isEmpty() ? "unknown" : s;
    }
}
