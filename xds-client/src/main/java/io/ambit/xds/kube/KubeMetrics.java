package io.ambit.xds.kube;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the Kubernetes watches report on {@code /metrics}: events by kind and type, relists by reason, request
 * failures, objects refused, and whether each kind is synced.
 */
final class KubeMetrics {
    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> synced = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> refused = new ConcurrentHashMap<>();

    KubeMetrics(MeterRegistry registry) {
        this.registry = registry != null ? registry : new SimpleMeterRegistry();
    }

    void event(ApiKind kind, String type) {
        counter("ambit_kube_watch_events", "watch events received", "kind", kind.kind(), "type", type)
                .increment();
    }

    /** A full list: {@code start}, {@code gone} (410: the watch's resourceVersion expired), {@code error}. */
    void relist(ApiKind kind, String reason) {
        counter("ambit_kube_relists", "lists of a whole kind", "kind", kind.kind(), "reason", reason)
                .increment();
    }

    void failure(ApiKind kind) {
        counter("ambit_kube_request_failures", "failed list or watch requests", "kind", kind.kind())
                .increment();
    }

    /** An object refused by validation (counted once per refused version). */
    void rejected(String kind) {
        counter("ambit_kube_objects_rejected", "objects refused (bad spec); the others apply", "kind", kind)
                .increment();
    }

    void refusedNow(String kind, int count) {
        refused.computeIfAbsent(kind, k -> {
                    var v = new AtomicInteger();
                    registry.gauge("ambit_kube_objects_refused", io.micrometer.core.instrument.Tags.of("kind", k), v);
                    return v;
                })
                .set(count);
    }

    void synced(ApiKind kind, boolean value) {
        synced.computeIfAbsent(kind.kind(), k -> {
                    var v = new AtomicInteger();
                    registry.gauge("ambit_kube_synced", io.micrometer.core.instrument.Tags.of("kind", k), v);
                    return v;
                })
                .set(value ? 1 : 0);
    }

    private Counter counter(String name, String help, String... tags) {
        return Counter.builder(name).description(help).tags(tags).register(registry);
    }
}
