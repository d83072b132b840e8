package io.ambit.xds.mesh;

import io.ambit.hbone.identity.SpiffeId;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One workload (a pod, a VM) as ztunnel sees it (workload.proto's {@code Workload}). The local file and
 * istiod fill in the same fields; {@link #builder} names them one by one.
 *
 * @param uid                   unique id, e.g. {@code Kubernetes//Pod/default/httpbin-1}
 * @param name                  workload (pod) name
 * @param namespace             its namespace
 * @param ips                   its addresses; unique in their network across the mesh (except for
 *                              {@link NetworkMode#HOST_NETWORK} workloads, which share the node's)
 * @param serviceAccount        the identity's service account
 * @param trustDomain           the identity's trust domain
 * @param node                  the node it runs on (which ztunnel captures it)
 * @param network               its network; empty for the default network
 * @param labels                its labels, for policy selectors. Istio's workload proto carries none:
 *                              istiod resolves selectors into {@code authorization_policies} before ztunnel
 *                              sees them, and the xDS converter turns that list back into labels the policy
 *                              engine attaches by ({@code io.ambit.xds.convert.PolicyLabels}). The local file
 *                              has no istiod, so it carries real labels and the engine resolves selectors.
 * @param canonicalName         {@code service.istio.io/canonical-name}, for telemetry
 * @param canonicalRevision     {@code service.istio.io/canonical-revision}, for telemetry
 * @param protocol              how to reach it: through HBONE (captured) or plain TCP (not in the mesh)
 * @param waypoint              its waypoint, or null
 * @param services              the services it backs, with its own port map for each
 * @param status                whether it may receive traffic
 * @param capacity              load-balancing weight relative to other endpoints (1 by default)
 * @param hostname              a name to resolve instead of addresses (workloads behind DNS); empty when none
 * @param workloadName          the owning object's name (a Deployment's, for a pod), for telemetry
 * @param workloadType          the owning object's kind, for telemetry
 * @param clusterId             the cluster it runs in; empty when unknown
 * @param locality              region, zone and subzone, for locality-aware load balancing
 * @param networkGateway        the east-west gateway that reaches it from other networks, or null
 * @param applicationTunnel     how it takes tunnelled traffic itself (a sandwiched waypoint), or null
 * @param nativeTunnel          it speaks HBONE itself: forward tunnels to it as they are
 * @param networkMode           whether its addresses are its own or shared with its node
 * @param authorizationPolicies {@code namespace/name} of the selector policies istiod found for it (xDS);
 *                              empty from the local file, whose policies select by {@link #labels}
 */
public record Workload(
        String uid,
        String name,
        String namespace,
        List<NetworkAddress> ips,
        String serviceAccount,
        String trustDomain,
        String node,
        String network,
        Map<String, String> labels,
        String canonicalName,
        String canonicalRevision,
        Protocol protocol,
        GatewayAddress waypoint,
        Map<NamespacedHostname, List<Port>> services,
        Status status,
        int capacity,
        String hostname,
        String workloadName,
        WorkloadType workloadType,
        String clusterId,
        Locality locality,
        GatewayAddress networkGateway,
        ApplicationTunnel applicationTunnel,
        boolean nativeTunnel,
        NetworkMode networkMode,
        List<String> authorizationPolicies) {
    public Workload {
        ips = List.copyOf(ips);
        labels = Map.copyOf(labels);
        // file order matters to readers (servicesOf); Map.copyOf would scramble it
        var copy = new LinkedHashMap<NamespacedHostname, List<Port>>();
        services.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        services = Collections.unmodifiableMap(copy);
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity " + capacity + " (expected: >= 0)");
        }
        hostname = Objects.requireNonNullElse(hostname, "");
        workloadName = Objects.requireNonNullElse(workloadName, "");
        workloadType = Objects.requireNonNullElse(workloadType, WorkloadType.POD);
        clusterId = Objects.requireNonNullElse(clusterId, "");
        locality = Objects.requireNonNullElse(locality, Locality.NONE);
        networkMode = Objects.requireNonNullElse(networkMode, NetworkMode.STANDARD);
        authorizationPolicies = List.copyOf(authorizationPolicies);
    }

    /** A builder with ztunnel's defaults: HBONE, healthy, capacity 1, trust domain cluster.local, SA default. */
    public static Builder builder(String uid, String name, String namespace) {
        return new Builder(uid, name, namespace);
    }

    /** A builder holding this workload's fields, to change a few. */
    public Builder toBuilder() {
        var b = new Builder(uid, name, namespace);
        b.ips = ips;
        b.serviceAccount = serviceAccount;
        b.trustDomain = trustDomain;
        b.node = node;
        b.network = network;
        b.labels = labels;
        b.canonicalName = canonicalName;
        b.canonicalRevision = canonicalRevision;
        b.protocol = protocol;
        b.waypoint = waypoint;
        b.services = services;
        b.status = status;
        b.capacity = capacity;
        b.hostname = hostname;
        b.workloadName = workloadName;
        b.workloadType = workloadType;
        b.clusterId = clusterId;
        b.locality = locality;
        b.networkGateway = networkGateway;
        b.applicationTunnel = applicationTunnel;
        b.nativeTunnel = nativeTunnel;
        b.networkMode = networkMode;
        b.authorizationPolicies = authorizationPolicies;
        return b;
    }

    /** The workload's SPIFFE identity. */
    public SpiffeId identity() {
        return new SpiffeId(trustDomain, namespace, serviceAccount);
    }

    /** The workload's port for a service port of one of its services, or -1. */
    public int targetPort(NamespacedHostname service, int servicePort) {
        for (var p : services.getOrDefault(service, List.of())) {
            if (p.servicePort() == servicePort) {
                return p.targetPort();
            }
        }
        return -1;
    }

    /** workload.proto's {@code TunnelProtocol} (ztunnel's local file spells it {@code HBONE} or {@code TCP}). */
    public enum Protocol {
        HBONE,
        TCP
    }

    /** workload.proto's {@code WorkloadStatus}. */
    public enum Status {
        HEALTHY,
        UNHEALTHY
    }

    /**
     * workload.proto's {@code WorkloadType}; {@link #UNKNOWN} stands for a value newer than Ambit (it only
     * labels telemetry, so it is no reason to refuse the workload).
     */
    public enum WorkloadType {
        DEPLOYMENT,
        CRONJOB,
        POD,
        JOB,
        UNKNOWN
    }

    /**
     * workload.proto's {@code NetworkMode}: a {@link #HOST_NETWORK} workload shares its node's IP with
     * others, so it is never looked up by IP.
     */
    public enum NetworkMode {
        STANDARD,
        HOST_NETWORK
    }

    /** Names the fields one by one; {@link #build} checks them as the record does. */
    public static final class Builder {
        private final String uid;
        private final String name;
        private final String namespace;
        private List<NetworkAddress> ips = List.of();
        private String serviceAccount = "default";
        private String trustDomain = "cluster.local";
        private String node = "";
        private String network = "";
        private Map<String, String> labels = Map.of();
        private String canonicalName;
        private String canonicalRevision = "latest";
        private Protocol protocol = Protocol.HBONE;
        private GatewayAddress waypoint;
        private Map<NamespacedHostname, List<Port>> services = Map.of();
        private Status status = Status.HEALTHY;
        private int capacity = 1;
        private String hostname = "";
        private String workloadName;
        private WorkloadType workloadType = WorkloadType.POD;
        private String clusterId = "";
        private Locality locality = Locality.NONE;
        private GatewayAddress networkGateway;
        private ApplicationTunnel applicationTunnel;
        private boolean nativeTunnel;
        private NetworkMode networkMode = NetworkMode.STANDARD;
        private List<String> authorizationPolicies = List.of();

        private Builder(String uid, String name, String namespace) {
            this.uid = uid;
            this.name = name;
            this.namespace = namespace;
            this.canonicalName = name;
            this.workloadName = name;
        }

        public Builder ips(List<NetworkAddress> v) {
            ips = v;
            return this;
        }

        public Builder serviceAccount(String v) {
            serviceAccount = v;
            return this;
        }

        public Builder trustDomain(String v) {
            trustDomain = v;
            return this;
        }

        public Builder node(String v) {
            node = v;
            return this;
        }

        public Builder network(String v) {
            network = v;
            return this;
        }

        public Builder labels(Map<String, String> v) {
            labels = v;
            return this;
        }

        public Builder canonicalName(String v) {
            canonicalName = v;
            return this;
        }

        public Builder canonicalRevision(String v) {
            canonicalRevision = v;
            return this;
        }

        public Builder protocol(Protocol v) {
            protocol = v;
            return this;
        }

        public Builder waypoint(GatewayAddress v) {
            waypoint = v;
            return this;
        }

        public Builder services(Map<NamespacedHostname, List<Port>> v) {
            services = v;
            return this;
        }

        public Builder status(Status v) {
            status = v;
            return this;
        }

        public Builder capacity(int v) {
            capacity = v;
            return this;
        }

        public Builder hostname(String v) {
            hostname = v;
            return this;
        }

        public Builder workloadName(String v) {
            workloadName = v;
            return this;
        }

        public Builder workloadType(WorkloadType v) {
            workloadType = v;
            return this;
        }

        public Builder clusterId(String v) {
            clusterId = v;
            return this;
        }

        public Builder locality(Locality v) {
            locality = v;
            return this;
        }

        public Builder networkGateway(GatewayAddress v) {
            networkGateway = v;
            return this;
        }

        public Builder applicationTunnel(ApplicationTunnel v) {
            applicationTunnel = v;
            return this;
        }

        public Builder nativeTunnel(boolean v) {
            nativeTunnel = v;
            return this;
        }

        public Builder networkMode(NetworkMode v) {
            networkMode = v;
            return this;
        }

        public Builder authorizationPolicies(List<String> v) {
            authorizationPolicies = v;
            return this;
        }

        public Workload build() {
            return new Workload(
                    uid,
                    name,
                    namespace,
                    ips,
                    serviceAccount,
                    trustDomain,
                    node,
                    network,
                    labels,
                    canonicalName,
                    canonicalRevision,
                    protocol,
                    waypoint,
                    services,
                    status,
                    capacity,
                    hostname,
                    workloadName,
                    workloadType,
                    clusterId,
                    locality,
                    networkGateway,
                    applicationTunnel,
                    nativeTunnel,
                    networkMode,
                    authorizationPolicies);
        }
    }
}
