package io.ambit.ztunnel.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.xds.mesh.Locality;
import io.ambit.xds.mesh.Workload;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The counters behind the per-label-set cache: the same series as a registry lookup per call would give. */
class TrafficMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final TrafficMetrics metrics = new TrafficMetrics(registry);

    private static TrafficMetrics.Labels labels(String principal, String flags) {
        return new TrafficMetrics.Labels("source", null, principal, null, null, "spiffe://td/ns/b/sa/b", flags, true);
    }

    private double count(String name, TrafficMetrics.Labels labels) {
        var counter = registry.find(name).tags(labels.tags()).counter();
        return counter == null ? -1 : counter.count();
    }

    @Test
    void repeatedConnectionsOfOneLabelSetAddUpInOneSeries() {
        var ok = labels("spiffe://td/ns/a/sa/a", "-");
        for (int i = 0; i < 3; i++) {
            metrics.opened(ok);
            metrics.closed(ok, 10, 20);
        }
        assertThat(count(TrafficMetrics.OPENED, ok)).isEqualTo(3);
        assertThat(count(TrafficMetrics.CLOSED, ok)).isEqualTo(3);
        assertThat(count(TrafficMetrics.RECEIVED_BYTES, ok)).isEqualTo(30);
        assertThat(count(TrafficMetrics.SENT_BYTES, ok)).isEqualTo(60);
        assertThat(count(TrafficMetrics.FAILED, ok))
                .as("no failed series for a clean flag")
                .isEqualTo(-1);
    }

    @Test
    void aRefusalCountsAsClosedAndFailedWithoutAnOpenedSeries() {
        var denied = labels("spiffe://td/ns/a/sa/a", "DENY");
        metrics.closed(denied, 0, 0);
        metrics.closed(denied, 0, 0);
        assertThat(count(TrafficMetrics.CLOSED, denied)).isEqualTo(2);
        assertThat(count(TrafficMetrics.FAILED, denied)).isEqualTo(2);
        assertThat(count(TrafficMetrics.OPENED, denied))
                .as("registered at first use only")
                .isEqualTo(-1);
    }

    @Test
    void moreLabelSetsThanTheCacheHoldsAreStillCountedExactly() {
        int sets = TrafficMetrics.MAX_CACHED * 2 + 7;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < sets; i++) {
                metrics.opened(labels("spiffe://td/ns/a/sa/client-" + i, "-"));
            }
        }
        for (int i = 0; i < sets; i += 997) {
            assertThat(count(TrafficMetrics.OPENED, labels("spiffe://td/ns/a/sa/client-" + i, "-")))
                    .isEqualTo(2);
        }
        assertThat(registry.find(TrafficMetrics.OPENED).counters()).hasSize(sets);
    }

    /**
     * ztunnel-reference §7.1, as ztunnel's {@code CommonTrafficLabels::with_source/with_destination} fill
     * them: {@code *_workload} is the owner (Deployment) name, not the pod's, {@code *_app} and
     * {@code *_version} the canonical service and revision (not pod labels), {@code *_cluster} the
     * workload's cluster id, regions and zones its locality. Istio's dashboards and Kiali group by these.
     */
    @Test
    void workloadLabelsComeFromTheFieldsZtunnelUses() {
        Workload source = Workload.builder("c1//Pod/shop/web-7d9f-abcde", "web-7d9f-abcde", "shop")
                .workloadName("web")
                .canonicalName("web-canonical")
                .canonicalRevision("v3")
                .labels(Map.of("app", "pod-label-app", "version", "pod-label-version"))
                .clusterId("east")
                .locality(new Locality("eu-west1", "eu-west1-b", "rack-1"))
                .build();
        Workload destination = Workload.builder("c1//Pod/shop/db-0", "db-0", "shop")
                .workloadName("db")
                .canonicalName("db")
                .canonicalRevision("latest")
                .clusterId("west")
                .locality(new Locality("us-east1", "us-east1-c", ""))
                .build();
        var labels = new TrafficMetrics.Labels(
                "destination",
                source,
                "spiffe://cluster.local/ns/shop/sa/web",
                null,
                destination,
                "spiffe://cluster.local/ns/shop/sa/db",
                "-",
                true);

        var tags = new java.util.HashMap<String, String>();
        labels.tags().forEach(t -> tags.put(t.getKey(), t.getValue()));

        assertThat(tags)
                .containsEntry("source_workload", "web")
                .containsEntry("source_canonical_service", "web-canonical")
                .containsEntry("source_canonical_revision", "v3")
                .containsEntry("source_workload_namespace", "shop")
                .containsEntry("source_principal", "spiffe://cluster.local/ns/shop/sa/web")
                .containsEntry("source_app", "web-canonical")
                .containsEntry("source_version", "v3")
                .containsEntry("source_cluster", "east")
                .containsEntry("source_region", "eu-west1")
                .containsEntry("source_zone", "eu-west1-b")
                .containsEntry("destination_workload", "db")
                .containsEntry("destination_app", "db")
                .containsEntry("destination_version", "latest")
                .containsEntry("destination_cluster", "west")
                .containsEntry("destination_region", "us-east1")
                .containsEntry("destination_zone", "us-east1-c")
                .containsEntry("destination_service", "unknown");
    }

    /** ztunnel-reference §7.1: {@code istio_build{component="ztunnel",tag}} = 1, once per registry. */
    @Test
    void theBuildGaugeIsZtunnelsAndRegisteredOnce() {
        new TrafficMetrics(registry); // a second node proxy on the same registry
        var gauges = registry.find(TrafficMetrics.BUILD).gauges();
        assertThat(gauges).hasSize(1);
        var gauge = gauges.iterator().next();
        assertThat(gauge.getId().getTag("component")).isEqualTo("ztunnel");
        assertThat(gauge.getId().getTag("tag")).isNotBlank();
        assertThat(gauge.value()).isEqualTo(1.0);
    }

    @Test
    void decisionsAreCountedPerPolicyAndOutcome() {
        metrics.decided("destination", "ns/allow", true);
        metrics.decided("destination", "ns/allow", true);
        metrics.decided("destination", null, false);
        assertThat(registry.find(TrafficMetrics.DECISIONS)
                        .tags("policy", "ns/allow", "decision", "ALLOW")
                        .counter()
                        .count())
                .isEqualTo(2);
        assertThat(registry.find(TrafficMetrics.DECISIONS)
                        .tags("policy", "none", "decision", "DENY")
                        .counter()
                        .count())
                .isEqualTo(1);
    }
}
