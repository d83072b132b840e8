package io.ambit.xds.convert;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.mesh.ApplicationTunnel;
import io.ambit.xds.mesh.GatewayAddress;
import io.ambit.xds.mesh.Locality;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Workload;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.TreeMap;

/**
 * istio.workload.Workload to the mesh model, checked at the edge. Fields are read as ztunnel reads them
 * (ztunnel-reference §3.1, §4.4): empty trust domain means {@code cluster.local}, empty service account
 * {@code default}, unset capacity 1. An enum value newer than Ambit is tolerated where the value only
 * labels telemetry or tunes a preference, and refused (the resource is NACKed by name) where guessing
 * would be unsafe: how to reach the workload ({@code tunnel_protocol}).
 */
public final class WorkloadConverter {
    private WorkloadConverter() {}

    /**
     * @param name the xDS resource name, which istiod sets to the workload's uid
     * @throws InvalidResourceException naming the field that is wrong and what was expected
     */
    public static Workload convert(String name, io.ambit.xds.proto.workload.Workload w)
            throws InvalidResourceException {
        try {
            return convert(w, name);
        } catch (IllegalArgumentException e) {
            throw new InvalidResourceException(name, e.getMessage());
        }
    }

    private static Workload convert(io.ambit.xds.proto.workload.Workload w, String name) {
        if (w.getUid().isEmpty()) {
            throw new IllegalArgumentException(
                    "uid is empty (expected: the workload's unique id, also its resource name)");
        }
        if (!w.getUid().equals(name)) {
            throw new IllegalArgumentException(
                    "uid \"" + w.getUid() + "\" differs from the resource name (expected: the same, as istiod sends)");
        }
        if (w.getNamespace().isEmpty()) {
            throw new IllegalArgumentException("namespace is empty (expected: the workload's namespace)");
        }
        String td = w.getTrustDomain().isEmpty() ? "cluster.local" : w.getTrustDomain();
        String sa = w.getServiceAccount().isEmpty() ? "default" : w.getServiceAccount();
        // the identity must parse: certificates are requested for it and peers checked against it
        new SpiffeId(td, w.getNamespace(), sa);

        var ips = new ArrayList<NetworkAddress>(w.getAddressesCount());
        for (int i = 0; i < w.getAddressesCount(); i++) {
            try {
                ips.add(Addresses.network(w.getNetwork(), w.getAddresses(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("addresses[" + i + "]: " + e.getMessage());
            }
        }
        if (ips.isEmpty() && w.getHostname().isEmpty()) {
            throw new IllegalArgumentException("has neither addresses nor hostname (expected: at least one of them)");
        }

        // sorted by key: the proto map has no order, and a stable one keeps snapshots comparable
        var services = new LinkedHashMap<NamespacedHostname, List<Port>>();
        for (var e : new TreeMap<>(w.getServicesMap()).entrySet()) {
            NamespacedHostname key;
            try {
                key = NamespacedHostname.parse(e.getKey());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("services key " + ex.getMessage());
            }
            var ports = new ArrayList<Port>();
            for (var p : e.getValue().getPortsList()) {
                if (p.getTargetPort() == 0) {
                    continue; // no override: the service's own target port applies
                }
                ports.add(port(p, "services[\"" + e.getKey() + "\"]"));
            }
            services.put(key, ports);
        }

        var policies = new ArrayList<String>(w.getAuthorizationPoliciesCount());
        for (var key : w.getAuthorizationPoliciesList()) {
            int slash = key.indexOf('/');
            if (slash <= 0 || slash == key.length() - 1) {
                throw new IllegalArgumentException(
                        "authorization_policies entry \"" + key + "\" (expected: namespace/name of an Authorization)");
            }
            policies.add(key);
        }

        String canonicalName = w.getCanonicalName().isEmpty() ? w.getName() : w.getCanonicalName();
        String canonicalRevision = w.getCanonicalRevision().isEmpty() ? "latest" : w.getCanonicalRevision();
        return Workload.builder(w.getUid(), w.getName(), w.getNamespace())
                .ips(ips)
                .serviceAccount(sa)
                .trustDomain(td)
                .node(w.getNode())
                .network(w.getNetwork())
                .labels(PolicyLabels.of(w.getNamespace(), canonicalName, canonicalRevision, policies))
                .canonicalName(canonicalName)
                .canonicalRevision(canonicalRevision)
                .protocol(protocol(w))
                .waypoint(w.hasWaypoint() ? gateway(w.getWaypoint(), "waypoint") : null)
                .services(services)
                .status(
                        switch (w.getStatus()) {
                            case HEALTHY -> Workload.Status.HEALTHY;
                            // a status newer than Ambit: do not send traffic on a guess
                            default -> Workload.Status.UNHEALTHY;
                        })
                .capacity(w.hasCapacity() ? capacity(w.getCapacity().getValue()) : 1)
                .hostname(w.getHostname())
                .workloadName(w.getWorkloadName().isEmpty() ? w.getName() : w.getWorkloadName())
                .workloadType(
                        switch (w.getWorkloadType()) {
                            case DEPLOYMENT -> Workload.WorkloadType.DEPLOYMENT;
                            case CRONJOB -> Workload.WorkloadType.CRONJOB;
                            case POD -> Workload.WorkloadType.POD;
                            case JOB -> Workload.WorkloadType.JOB;
                            case UNRECOGNIZED -> Workload.WorkloadType.UNKNOWN;
                        })
                .clusterId(w.getClusterId())
                .locality(
                        w.hasLocality()
                                ? new Locality(
                                        w.getLocality().getRegion(),
                                        w.getLocality().getZone(),
                                        w.getLocality().getSubzone())
                                : Locality.NONE)
                .networkGateway(w.hasNetworkGateway() ? gateway(w.getNetworkGateway(), "network_gateway") : null)
                .applicationTunnel(w.hasApplicationTunnel() ? applicationTunnel(w) : null)
                .nativeTunnel(w.getNativeTunnel())
                .networkMode(
                        switch (w.getNetworkMode()) {
                            case HOST_NETWORK -> Workload.NetworkMode.HOST_NETWORK;
                            // newer modes: treat addresses as the workload's own, the proto default
                            default -> Workload.NetworkMode.STANDARD;
                        })
                .authorizationPolicies(policies)
                .build();
    }

    private static Workload.Protocol protocol(io.ambit.xds.proto.workload.Workload w) {
        return switch (w.getTunnelProtocol()) {
            case NONE -> Workload.Protocol.TCP;
            case HBONE -> Workload.Protocol.HBONE;
            case LEGACY_ISTIO_MTLS ->
                throw new IllegalArgumentException(
                        "tunnel_protocol LEGACY_ISTIO_MTLS is not supported (expected: NONE or HBONE, as ztunnel)");
            case UNRECOGNIZED ->
                throw new IllegalArgumentException("tunnel_protocol " + w.getTunnelProtocolValue()
                        + " is unknown (expected: 0 NONE or 1 HBONE; guessing could send plaintext where a tunnel"
                        + " is required)");
        };
    }

    private static int capacity(int raw) {
        if (raw < 0) { // a uint32 over 2^31
            throw new IllegalArgumentException(
                    "capacity " + Integer.toUnsignedString(raw) + " (expected: at most " + Integer.MAX_VALUE + ")");
        }
        return raw;
    }

    private static ApplicationTunnel applicationTunnel(io.ambit.xds.proto.workload.Workload w) {
        var t = w.getApplicationTunnel();
        var protocol =
                switch (t.getProtocol()) {
                    case NONE -> ApplicationTunnel.Protocol.NONE;
                    case PROXY -> ApplicationTunnel.Protocol.PROXY;
                    case UNRECOGNIZED ->
                        throw new IllegalArgumentException("application_tunnel.protocol " + t.getProtocolValue()
                                + " is unknown (expected: 0 NONE or 1 PROXY)");
                };
        if (t.getPort() > 65535 || t.getPort() < 0) {
            throw new IllegalArgumentException(
                    "application_tunnel.port " + Integer.toUnsignedString(t.getPort()) + " (expected: 0-65535)");
        }
        return new ApplicationTunnel(protocol, t.getPort());
    }

    static Port port(io.ambit.xds.proto.workload.Port p, String where) {
        int service = p.getServicePort();
        int target = p.getTargetPort();
        if (service < 1 || service > 65535 || target < 0 || target > 65535) {
            throw new IllegalArgumentException(where + " port " + Integer.toUnsignedString(service) + " -> "
                    + Integer.toUnsignedString(target) + " (expected: service port 1-65535, target port 0-65535)");
        }
        return new Port(service, target);
    }

    /** A waypoint or gateway; hbone_mtls_port 0 means ztunnel's 15008. */
    static GatewayAddress gateway(io.ambit.xds.proto.workload.GatewayAddress g, String field) {
        int port = g.getHboneMtlsPort() == 0 ? GatewayAddress.DEFAULT_HBONE_PORT : g.getHboneMtlsPort();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(
                    field + ".hbone_mtls_port " + Integer.toUnsignedString(port) + " (expected: 1-65535)");
        }
        return switch (g.getDestinationCase()) {
            case ADDRESS -> {
                try {
                    var a = g.getAddress();
                    var at = Addresses.vip(a.getNetwork(), a.getAddress(), a.hasLength() ? a.getLength() : null);
                    if (!at.isSingleAddress()) {
                        // a waypoint or gateway is dialed: a range names no one to dial
                        throw new IllegalArgumentException(
                                "is the range " + at + " (expected: one address, no length or /32 or /128)");
                    }
                    yield new GatewayAddress(at.address(), null, port);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(field + ".address: " + e.getMessage());
                }
            }
            case HOSTNAME -> {
                var h = g.getHostname();
                if (h.getNamespace().isEmpty() || h.getHostname().isEmpty()) {
                    throw new IllegalArgumentException(field + ".hostname is \"" + h.getNamespace() + "/"
                            + h.getHostname() + "\" (expected: namespace and hostname, both non-empty)");
                }
                yield new GatewayAddress(null, new NamespacedHostname(h.getNamespace(), h.getHostname()), port);
            }
            case DESTINATION_NOT_SET ->
                throw new IllegalArgumentException(field + " has no destination (expected: an address or a hostname)");
        };
    }
}
