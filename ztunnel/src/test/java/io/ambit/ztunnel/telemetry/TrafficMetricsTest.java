package io.ambit.ztunnel.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
