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

    /**
     * A builder for a service with workload.proto's defaults: no VIPs, ports or extra identities, no
     * waypoint, {@link LoadBalancing#DEFAULT}, automatic address families, not canonical, public. A call
     * site names what it sets, and a new field is one more setter with its default, not one more
     * constructor (as {@link Workload#builder}).
     */
    public static Builder builder(String name, String namespace, String hostname) {
        return new Builder(name, namespace, hostname);
    }

    /** A builder holding this service's fields, to change a few. */
    public Builder toBuilder() {
        return builder(name, namespace, hostname)
                .vips(vips)
                .cidrVips(cidrVips)
                .ports(ports)
                .subjectAltNames(subjectAltNames)
                .waypoint(waypoint)
                .loadBalancing(loadBalancing)
                .ipFamilies(ipFamilies)
                .canonical(canonical)
                .visibility(visibility);
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

    /** Names the fields one by one; {@link #build} checks them as the record does. */
    public static final class Builder {
        private final String name;
        private final String namespace;
        private final String hostname;
        private List<NetworkAddress> vips = List.of();
        private List<NetworkCidr> cidrVips = List.of();
        private List<Port> ports = List.of();
        private List<String> subjectAltNames = List.of();
        private GatewayAddress waypoint;
        private LoadBalancing loadBalancing = LoadBalancing.DEFAULT;
        private IpFamilies ipFamilies = IpFamilies.AUTOMATIC;
        private boolean canonical;
        private Visibility visibility = Visibility.PUBLIC;

        private Builder(String name, String namespace, String hostname) {
            this.name = name;
            this.namespace = namespace;
            this.hostname = hostname;
        }

        public Builder vips(List<NetworkAddress> v) {
            vips = v;
            return this;
        }

        public Builder cidrVips(List<NetworkCidr> v) {
            cidrVips = v;
            return this;
        }

        public Builder ports(List<Port> v) {
            ports = v;
            return this;
        }

        public Builder subjectAltNames(List<String> v) {
            subjectAltNames = v;
            return this;
        }

        /** The service's waypoint; null (the default) for none. */
        public Builder waypoint(GatewayAddress v) {
            waypoint = v;
            return this;
        }

        /** Endpoint preferences; null means {@link LoadBalancing#DEFAULT}. */
        public Builder loadBalancing(LoadBalancing v) {
            loadBalancing = v;
            return this;
        }

        public Builder ipFamilies(IpFamilies v) {
            ipFamilies = v;
            return this;
        }

        public Builder canonical(boolean v) {
            canonical = v;
            return this;
        }

        public Builder visibility(Visibility v) {
            visibility = v;
            return this;
        }

        public Service build() {
            return new Service(
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
                    cidrVips);
        }
    }
}
