package io.ambit.xds.mesh;

import java.util.List;
import java.util.Objects;

/**
 * A service: a hostname with virtual IPs and ports, backed by the workloads that name it in their
 * {@code services} map (workload.proto's {@code Service}).
 *
 * @param name            the Kubernetes service name
 * @param namespace       its namespace
 * @param hostname        e.g. {@code httpbin.default.svc.cluster.local}
 * @param vips            virtual IPs; empty for a headless service
 * @param cidrVips        address ranges the service owns (CIDR VIPs): an address no workload and no exact
 *                        VIP holds goes to the service of the longest range holding it
 * @param ports           service port to target port
 * @param subjectAltNames extra identities an endpoint may present, as SPIFFE URIs
 * @param waypoint        the service's waypoint, or null
 * @param loadBalancing   endpoint preferences ({@link LoadBalancing#DEFAULT} when not given)
 * @param ipFamilies      the address families it serves
 * @param canonical       wins hostname lookups from namespaces that have no service of that hostname
 * @param visibility      who may resolve it: everyone, or only its own namespace
 */
public record Service(
        String name,
        String namespace,
        String hostname,
        List<NetworkAddress> vips,
        List<Port> ports,
        List<String> subjectAltNames,
        GatewayAddress waypoint,
        LoadBalancing loadBalancing,
        IpFamilies ipFamilies,
        boolean canonical,
        Visibility visibility,
        List<NetworkCidr> cidrVips) {
    public Service {
        vips = List.copyOf(vips);
        cidrVips = List.copyOf(Objects.requireNonNullElse(cidrVips, List.of()));
        ports = List.copyOf(ports);
        subjectAltNames = List.copyOf(subjectAltNames);
        loadBalancing = Objects.requireNonNullElse(loadBalancing, LoadBalancing.DEFAULT);
        ipFamilies = Objects.requireNonNullElse(ipFamilies, IpFamilies.AUTOMATIC);
        visibility = Objects.requireNonNullElse(visibility, Visibility.PUBLIC);
    }

    /** A service without CIDR VIPs. */
    public Service(
            String name,
            String namespace,
            String hostname,
            List<NetworkAddress> vips,
            List<Port> ports,
            List<String> subjectAltNames,
            GatewayAddress waypoint,
            LoadBalancing loadBalancing,
            IpFamilies ipFamilies,
            boolean canonical,
            Visibility visibility) {
        this(
                name,
                namespace,
                hostname,
                vips,
                ports,
                subjectAltNames,
                waypoint,
                loadBalancing,
                ipFamilies,
                canonical,
                visibility,
                List.of());
    }

    /** The fields the local file had first; address families automatic, not canonical, public. */
    public Service(
            String name,
            String namespace,
            String hostname,
            List<NetworkAddress> vips,
            List<Port> ports,
            List<String> subjectAltNames,
            GatewayAddress waypoint,
            LoadBalancing loadBalancing) {
        this(
                name,
                namespace,
                hostname,
                vips,
                ports,
                subjectAltNames,
                waypoint,
                loadBalancing,
                IpFamilies.AUTOMATIC,
                false,
                Visibility.PUBLIC,
                List.of());
    }

    /** The key workloads use to name this service. */
    public NamespacedHostname key() {
        return new NamespacedHostname(namespace, hostname);
    }

    /** The target port for a service port, or -1 when the service does not expose it (0: see {@link Port}). */
    public int targetPort(int servicePort) {
        for (var p : ports) {
            if (p.servicePort() == servicePort) {
                return p.targetPort();
            }
        }
        return -1;
    }

    /** workload.proto's {@code IPFamilies}. */
    public enum IpFamilies {
        AUTOMATIC,
        IPV4_ONLY,
        IPV6_ONLY,
        DUAL
    }

    /** workload.proto's {@code Visibility}: {@link #NAMESPACE} services are seen only from their namespace. */
    public enum Visibility {
        PUBLIC,
        NAMESPACE
    }
}
