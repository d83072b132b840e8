package io.ambit.xds.mesh;

import java.util.List;

/**
 * A service's endpoint preference (workload.proto's {@code LoadBalancing}; {@code loadBalancer} in
 * ztunnel's local file).
 *
 * @param routingPreference scopes to match with the client, most important first
 * @param mode              how strictly the preference applies
 * @param healthPolicy      whether unhealthy endpoints may be used
 */
public record LoadBalancing(List<Scope> routingPreference, Mode mode, HealthPolicy healthPolicy) {
    /** No preference: any healthy endpoint. */
    public static final LoadBalancing DEFAULT = new LoadBalancing(List.of(), Mode.STANDARD, HealthPolicy.ONLY_HEALTHY);

    public LoadBalancing {
        routingPreference = List.copyOf(routingPreference);
    }

    /** What an endpoint must share with the client. */
    public enum Scope {
        REGION,
        ZONE,
        SUBZONE,
        NODE,
        CLUSTER,
        NETWORK
    }

    /** {@code STANDARD} is the proto's unspecified mode: no preference. */
    public enum Mode {
        STANDARD,
        STRICT,
        FAILOVER,
        PASSTHROUGH
    }

    public enum HealthPolicy {
        ONLY_HEALTHY,
        ALLOW_ALL
    }
}
