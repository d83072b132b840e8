package io.ambit.xds.mesh;

import java.util.List;

/**
 * A service: a hostname with virtual IPs and ports, backed by the workloads that name it in their
 * {@code services} map (workload.proto's {@code Service}).
 *
 * @param name            the Kubernetes service name
 * @param namespace       its namespace
 * @param hostname        e.g. {@code httpbin.default.svc.cluster.local}
 * @param vips            virtual IPs; empty for a headless service
 * @param ports           service port to target port
 * @param subjectAltNames extra identities an endpoint may present, as SPIFFE URIs
 * @param waypoint        the service's waypoint, or null
 * @param loadBalancing   endpoint preferences ({@link LoadBalancing#DEFAULT} when not given)
 */
public record Service(
        String name,
        String namespace,
        String hostname,
        List<NetworkAddress> vips,
        List<Port> ports,
        List<String> subjectAltNames,
        GatewayAddress waypoint,
        LoadBalancing loadBalancing) {
    public Service {
        vips = List.copyOf(vips);
        ports = List.copyOf(ports);
        subjectAltNames = List.copyOf(subjectAltNames);
    }

    /** The key workloads use to name this service. */
    public NamespacedHostname key() {
        return new NamespacedHostname(namespace, hostname);
    }

    /** The target port for a service port, or -1 when the service does not expose it. */
    public int targetPort(int servicePort) {
        for (var p : ports) {
            if (p.servicePort() == servicePort) {
                return p.targetPort();
            }
        }
        return -1;
    }
}
