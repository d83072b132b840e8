package io.ambit.deploy.observability;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Every metric name the dashboard and the alerts use, and what exports it: queries made of {@link
 * Source#ZTUNNEL} metrics must return data in {@link DashboardLiveMeshTest} (a running local mesh), those of
 * {@link Source#XDS} metrics in {@link XdsPanelsLiveTest} (the real xDS client), those of {@link
 * Source#WAYPOINT} metrics in {@link WaypointPanelsLiveTest} (ztunnels and a waypoint as {@code ambit run}
 * starts them).
 */
enum MetricCatalog {
    ;

    /** Who exports a metric. */
    enum Source {
        /** The ztunnel, in every mode ({@code ambit run} included): istio_tcp_*, certificates, decisions. */
        ZTUNNEL("the ztunnel (ambit run)"),
        /** The waypoint: istio_requests_total and friends, reporter="waypoint", on its own :15020. */
        WAYPOINT("answered by the waypoint in WaypointPanelsLiveTest"),
        /** The ztunnel's xDS client ({@code ambit ztunnel} against istiod): checked by XdsPanelsLiveTest. */
        XDS("answered by the xDS client in XdsPanelsLiveTest");

        final String when;

        Source(String when) {
            this.when = when;
        }
    }

    static final Map<String, Source> METRICS = Map.ofEntries(
            Map.entry("istio_tcp_connections_opened_total", Source.ZTUNNEL),
            Map.entry("istio_tcp_connections_closed_total", Source.ZTUNNEL),
            Map.entry("istio_tcp_connections_failed_total", Source.ZTUNNEL),
            Map.entry("istio_tcp_sent_bytes_total", Source.ZTUNNEL),
            Map.entry("istio_tcp_received_bytes_total", Source.ZTUNNEL),
            Map.entry("istio_cert_expiry_timestamp", Source.ZTUNNEL),
            Map.entry("ambit_cert_rotations_total", Source.ZTUNNEL),
            Map.entry("ambit_cert_failures_total", Source.ZTUNNEL),
            Map.entry("ambit_authorization_decisions_total", Source.ZTUNNEL),
            Map.entry("istio_requests_total", Source.WAYPOINT),
            Map.entry("istio_request_duration_milliseconds_bucket", Source.WAYPOINT),
            Map.entry("istio_xds_connection_terminations_total", Source.XDS),
            Map.entry("istio_xds_message_total", Source.XDS),
            Map.entry("istio_xds_message_bytes_total", Source.XDS));

    private static final Pattern NAME = Pattern.compile("\\b((?:istio|ambit)_[a-z0-9_]+)\\b");

    /** The metric names {@code expr} reads. */
    static Set<String> metricsIn(String expr) {
        var names = new TreeSet<String>();
        NAME.matcher(expr).results().forEach(m -> names.add(m.group(1)));
        return names;
    }

    /**
     * Where the data of {@code expr} comes from: {@link Source#ZTUNNEL} when every metric it reads is the
     * ztunnel's, else the first other source it reads.
     *
     * @throws AssertionError for a metric not in the catalog
     */
    static Source sourceOf(String expr) {
        Source result = Source.ZTUNNEL;
        for (String name : metricsIn(expr)) {
            Source s = METRICS.get(name);
            if (s == null) {
                throw new AssertionError("metric " + name + " in " + expr + " is not in MetricCatalog (expected one of "
                        + new TreeSet<>(METRICS.keySet()) + ")");
            }
            if (s != Source.ZTUNNEL && result == Source.ZTUNNEL) {
                result = s;
            }
        }
        return result;
    }
}
