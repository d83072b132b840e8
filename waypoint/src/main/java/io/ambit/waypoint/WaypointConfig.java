package io.ambit.waypoint;

import io.ambit.hbone.tls.TlsSettings;
import io.ambit.waypoint.http1.Http1Limits;
import io.ambit.waypoint.http2.Http2Limits;
import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.pipeline.StageSet;
import io.ambit.waypoint.route.RouteConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;

/**
 * Static configuration of one waypoint, parsed and checked once.
 *
 * @param self which waypoint this is (Gateway name and namespace, identity, how services name it)
 * @param hbone where to accept HBONE (15008)
 * @param metrics where to serve {@code /metrics} and {@code /stats/prometheus} (15020), or null for none
 * @param readiness where to serve {@code /healthz/ready} (15021), or null for none
 * @param sourceIp the local address of upstream tunnels, or null for the system's choice
 * @param tls HBONE TLS settings (both directions)
 * @param http1 HTTP/1.1 server limits
 * @param http2 HTTP/2 server limits
 * @param route endpoint connections and timeouts
 * @param stages the pluggable pipeline stages (ext_authz, JWT, rate limit)
 * @param pipelineTimeout how long the pipeline's stages together may take before 504
 * @param samplingPercent share of new traces recorded, 0-100 (Istio's {@code sampling})
 * @param zipkin Zipkin's span endpoint ({@code http://host:9411/api/v2/spans}), or null to export none
 * @param cluster the {@code source_cluster}/{@code destination_cluster} label value
 */
public record WaypointConfig(
        WaypointIdentity self,
        InetSocketAddress hbone,
        InetSocketAddress metrics,
        InetSocketAddress readiness,
        InetAddress sourceIp,
        TlsSettings tls,
        Http1Limits http1,
        Http2Limits http2,
        RouteConfig route,
        StageSet stages,
        Duration pipelineTimeout,
        double samplingPercent,
        URI zipkin,
        String cluster) {

    public WaypointConfig {
        if (self == null
                || hbone == null
                || tls == null
                || http1 == null
                || http2 == null
                || route == null
                || stages == null) {
            throw new IllegalArgumentException(
                    "waypoint config: self, hbone, tls, http1, http2, route and stages" + " are required");
        }
        if (pipelineTimeout == null || pipelineTimeout.isNegative() || pipelineTimeout.isZero()) {
            throw new IllegalArgumentException("pipelineTimeout: " + pipelineTimeout + " (expected: > 0)");
        }
        if (!(samplingPercent >= 0 && samplingPercent <= 100)) {
            throw new IllegalArgumentException("samplingPercent: " + samplingPercent + " (expected: 0 to 100)");
        }
        if (zipkin != null && !"http".equals(zipkin.getScheme()) && !"https".equals(zipkin.getScheme())) {
            throw new IllegalArgumentException("zipkin: " + zipkin + " (expected an http:// or https:// URL)");
        }
    }

    /**
     * Istio's settings for {@code self} listening on {@code ip}: HBONE on 15008, metrics on 15020,
     * readiness on 15021, tunnels from {@code ip}; 1% of new traces sampled, none exported.
     */
    public static WaypointConfig defaults(WaypointIdentity self, InetAddress ip) {
        return new WaypointConfig(
                self,
                new InetSocketAddress(ip, 15008),
                new InetSocketAddress(ip, 15020),
                new InetSocketAddress(ip, 15021),
                ip,
                TlsSettings.defaults(),
                Http1Limits.defaults(),
                Http2Limits.defaults(),
                RouteConfig.defaults(),
                StageSet.NONE,
                Duration.ofSeconds(10),
                1.0,
                null,
                null);
    }

    /**
     * A builder holding this config, to change a few fields; {@link Builder#build} checks them as the record
     * does. The {@code withX} methods below are its common uses: one constructor call serves them all.
     */
    public Builder toBuilder() {
        return new Builder()
                .self(self)
                .hbone(hbone)
                .metrics(metrics)
                .readiness(readiness)
                .sourceIp(sourceIp)
                .tls(tls)
                .http1(http1)
                .http2(http2)
                .route(route)
                .stages(stages)
                .pipelineTimeout(pipelineTimeout)
                .samplingPercent(samplingPercent)
                .zipkin(zipkin)
                .cluster(cluster);
    }

    public WaypointConfig withPorts(InetSocketAddress hbone, InetSocketAddress metrics, InetSocketAddress readiness) {
        return toBuilder().hbone(hbone).metrics(metrics).readiness(readiness).build();
    }

    public WaypointConfig withRoute(RouteConfig value) {
        return toBuilder().route(value).build();
    }

    public WaypointConfig withStages(StageSet value) {
        return toBuilder().stages(value).build();
    }

    public WaypointConfig withHttp1(Http1Limits value) {
        return toBuilder().http1(value).build();
    }

    public WaypointConfig withHttp2(Http2Limits value) {
        return toBuilder().http2(value).build();
    }

    public WaypointConfig withTracing(double percent, URI zipkinEndpoint) {
        return toBuilder().samplingPercent(percent).zipkin(zipkinEndpoint).build();
    }

    public WaypointConfig withTls(TlsSettings value) {
        return toBuilder().tls(value).build();
    }

    /** Names the fields one by one (see {@link #toBuilder}). */
    public static final class Builder {
        private WaypointIdentity self;
        private InetSocketAddress hbone;
        private InetSocketAddress metrics;
        private InetSocketAddress readiness;
        private InetAddress sourceIp;
        private TlsSettings tls;
        private Http1Limits http1;
        private Http2Limits http2;
        private RouteConfig route;
        private StageSet stages;
        private Duration pipelineTimeout;
        private double samplingPercent;
        private URI zipkin;
        private String cluster;

        private Builder() {}

        public Builder self(WaypointIdentity v) {
            self = v;
            return this;
        }

        public Builder hbone(InetSocketAddress v) {
            hbone = v;
            return this;
        }

        /** Where {@code /metrics} is served; null: nowhere. */
        public Builder metrics(InetSocketAddress v) {
            metrics = v;
            return this;
        }

        /** Where {@code /healthz/ready} is served; null: nowhere. */
        public Builder readiness(InetSocketAddress v) {
            readiness = v;
            return this;
        }

        /** The local address of upstream tunnels; null: the system's choice. */
        public Builder sourceIp(InetAddress v) {
            sourceIp = v;
            return this;
        }

        public Builder tls(TlsSettings v) {
            tls = v;
            return this;
        }

        public Builder http1(Http1Limits v) {
            http1 = v;
            return this;
        }

        public Builder http2(Http2Limits v) {
            http2 = v;
            return this;
        }

        public Builder route(RouteConfig v) {
            route = v;
            return this;
        }

        public Builder stages(StageSet v) {
            stages = v;
            return this;
        }

        public Builder pipelineTimeout(Duration v) {
            pipelineTimeout = v;
            return this;
        }

        public Builder samplingPercent(double v) {
            samplingPercent = v;
            return this;
        }

        /** Zipkin's span endpoint; null: no export. */
        public Builder zipkin(URI v) {
            zipkin = v;
            return this;
        }

        public Builder cluster(String v) {
            cluster = v;
            return this;
        }

        public WaypointConfig build() {
            return new WaypointConfig(
                    self,
                    hbone,
                    metrics,
                    readiness,
                    sourceIp,
                    tls,
                    http1,
                    http2,
                    route,
                    stages,
                    pipelineTimeout,
                    samplingPercent,
                    zipkin,
                    cluster);
        }
    }
}
