package io.ambit.xds.client;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * ztunnel's xDS metrics (ztunnel-reference §7.1): {@code istio_xds_connection_terminations_total{reason}}
 * with ztunnel's reasons ({@code ConnectionError}, {@code Error}, {@code Reconnect}, {@code Complete}),
 * {@code istio_xds_message_total{url}} and {@code istio_xds_message_bytes_total{url}}.
 */
final class XdsMetrics {
    private final MeterRegistry registry;

    XdsMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void terminated(String reason) {
        Counter.builder("istio_xds_connection_terminations")
                .description("Connections to the xDS server that ended")
                .tag("reason", reason)
                .register(registry)
                .increment();
    }

    void message(String typeUrl, int bytes) {
        Counter.builder("istio_xds_message")
                .description("xDS responses received")
                .tag("url", typeUrl)
                .register(registry)
                .increment();
        Counter.builder("istio_xds_message_bytes")
                .description("Bytes of xDS responses received")
                .tag("url", typeUrl)
                .register(registry)
                .increment(bytes);
    }
}
