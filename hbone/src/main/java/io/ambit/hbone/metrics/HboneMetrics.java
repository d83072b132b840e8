package io.ambit.hbone.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.netty.channel.Channel;
import java.util.concurrent.atomic.LongAdder;

/**
 * Every metric name of the HBONE module, and the meters HBONE servers and pools record to. Istio's name is
 * used wherever Istio has the metric (ztunnel-reference §7.1); the rest are {@code ambit_*}. Names are
 * given without {@code _total}: Micrometer's Prometheus registry appends it to counters, as ztunnel's
 * {@code prometheus-client} does.
 *
 * <p>Labels follow Istio: {@code reporter} is {@code destination} for what an {@code HboneServer} records
 * (the inbound side) and {@code source} for what an {@code HbonePool} records (the outbound side); a value
 * that is not known is {@code unknown}.
 *
 * <p>One instance per registry, shared by every server and pool that reports to it: the gauges are
 * registered once and sum over all of them (a second instance on the same registry would find its gauges
 * already taken by the first).
 */
public final class HboneMetrics {
    /**
     * Counter{reporter}: connections refused or closed because the peer's chain is revoked by the CRL, in
     * the handshake or when a CRL update arrives (ztunnel's {@code istio_crl_policy_rejections_total}).
     */
    public static final String CRL_POLICY_REJECTIONS = "istio_crl_policy_rejections";
    /**
     * Counter{reporter, group, outcome}: HBONE TLS handshakes by negotiated key-exchange group ({@code
     * X25519MLKEM768}, {@code X25519}; {@code unknown} when the handshake failed) and outcome ({@code
     * success}: handshake done and peer verified; {@code failure}: anything else). No Istio equivalent.
     */
    public static final String TLS_HANDSHAKES = "ambit_hbone_tls_handshakes";
    /** Gauge{reporter}: HBONE connections past their verified handshake and not yet closed. */
    public static final String CONNECTIONS_OPEN = "ambit_hbone_connections_open";
    /** Gauge{reporter}: HBONE CONNECT streams open (on the server, from the request; on the pool, from opening). */
    public static final String STREAMS_OPEN = "ambit_hbone_streams_open";
    /**
     * Gauge{identity}: when the workload certificate expires, in seconds since the epoch. No upstream metric
     * exists (§7.1, istio/ztunnel#1748); name and label are those of the open proposal istio/ztunnel#1889.
     */
    public static final String CERT_EXPIRY = "istio_cert_expiry_timestamp";
    /** Counter{identity}: workload certificates replaced by a new one. */
    public static final String CERT_ROTATIONS = "ambit_cert_rotations";
    /** Counter{identity}: failed workload certificate fetches. */
    public static final String CERT_FAILURES = "ambit_cert_failures";

    /** The label saying which side reports: {@code destination} (server) or {@code source} (pool). */
    public static final String REPORTER = "reporter";
    /** The label holding the negotiated key-exchange group. */
    public static final String GROUP = "group";
    /** The label holding {@code success} or {@code failure}. */
    public static final String OUTCOME = "outcome";
    /** The label holding a SPIFFE URI. */
    public static final String IDENTITY = "identity";

    /** What Istio renders for a label value it does not know. */
    public static final String UNKNOWN = "unknown";

    private final Side destination;
    private final Side source;

    private HboneMetrics(MeterRegistry registry) {
        this.destination = new Side(registry, "destination");
        this.source = new Side(registry, "source");
    }

    /** Meters in {@code registry}; create one per registry and share it. */
    public static HboneMetrics of(MeterRegistry registry) {
        return new HboneMetrics(registry);
    }

    /** Meters that go nowhere (an empty composite registry): for servers and pools nobody scrapes. */
    public static HboneMetrics none() {
        return new HboneMetrics(new CompositeMeterRegistry());
    }

    /** What HBONE servers record ({@code reporter=destination}). */
    public Side destination() {
        return destination;
    }

    /** What HBONE pools record ({@code reporter=source}). */
    public Side source() {
        return source;
    }

    /** The meters of one side. Thread-safe; cheap enough for every connection. */
    public static final class Side {
        private final MeterRegistry registry;
        private final String reporter;
        private final Counter crlRejections;
        private final LongAdder connections = new LongAdder();
        private final LongAdder streams = new LongAdder();

        private Side(MeterRegistry registry, String reporter) {
            this.registry = registry;
            this.reporter = reporter;
            this.crlRejections = Counter.builder(CRL_POLICY_REJECTIONS)
                    .description("Connections refused or closed because the peer certificate is revoked")
                    .tag(REPORTER, reporter)
                    .register(registry);
            Gauge.builder(CONNECTIONS_OPEN, connections, LongAdder::sum)
                    .description("HBONE connections open past their verified TLS handshake")
                    .tag(REPORTER, reporter)
                    .strongReference(true)
                    .register(registry);
            Gauge.builder(STREAMS_OPEN, streams, LongAdder::sum)
                    .description("HBONE CONNECT streams open")
                    .tag(REPORTER, reporter)
                    .strongReference(true)
                    .register(registry);
        }

        /** The {@code reporter} label value of this side. */
        public String reporter() {
            return reporter;
        }

        /** Counts a TLS handshake: {@code group} is the negotiated group, or {@code null} when not known. */
        public void handshake(String group, boolean success) {
            Counter.builder(TLS_HANDSHAKES)
                    .description("HBONE TLS handshakes by negotiated key-exchange group and outcome")
                    .tag(REPORTER, reporter)
                    .tag(GROUP, group == null ? UNKNOWN : group)
                    .tag(OUTCOME, success ? "success" : "failure")
                    .register(registry)
                    .increment();
        }

        /** Counts a connection refused or closed because its peer is revoked. */
        public void crlRejection() {
            crlRejections.increment();
        }

        /** Counts {@code connection} as open until it closes. */
        public void connectionOpened(Channel connection) {
            track(connections, connection);
        }

        /** Counts {@code stream} as open until it closes. */
        public void streamOpened(Channel stream) {
            track(streams, stream);
        }

        /** Counts a stream that has no channel (direct streams) as open; call {@link #streamClosed()} once when it closes. */
        public void streamOpened() {
            streams.increment();
        }

        /** A stream counted by {@link #streamOpened()} closed. */
        public void streamClosed() {
            streams.decrement();
        }

        private static void track(LongAdder open, Channel channel) {
            open.increment();
            channel.closeFuture().addListener(f -> open.decrement());
        }
    }
}
