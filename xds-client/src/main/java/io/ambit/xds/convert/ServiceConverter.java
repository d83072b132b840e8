package io.ambit.xds.convert;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.mesh.LoadBalancing;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.NetworkCidr;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import java.util.ArrayList;
import java.util.HashSet;

/**
 * istio.workload.Service to the mesh model, checked at the edge. Enum values newer than Ambit are
 * tolerated (they tune preferences): an unknown routing scope is dropped, an unknown mode means no
 * preference, an unknown health policy means healthy endpoints only, unknown address families mean
 * automatic, and an unknown visibility means namespace-only (the narrower choice).
 */
public final class ServiceConverter {
    private ServiceConverter() {}

    /**
     * @param name the xDS resource name, which istiod sets to {@code namespace/hostname}
     * @throws InvalidResourceException naming the field that is wrong and what was expected
     */
    public static Service convert(String name, io.ambit.xds.proto.workload.Service s) throws InvalidResourceException {
        try {
            return convert(s, name);
        } catch (IllegalArgumentException e) {
            throw new InvalidResourceException(name, e.getMessage());
        }
    }

    private static Service convert(io.ambit.xds.proto.workload.Service s, String name) {
        if (s.getNamespace().isEmpty() || s.getHostname().isEmpty()) {
            throw new IllegalArgumentException(
                    "namespace or hostname is empty (expected: both, the service's key namespace/hostname)");
        }
        String key = s.getNamespace() + "/" + s.getHostname();
        if (!key.equals(name)) {
            throw new IllegalArgumentException("is service " + key
                    + " under another resource name (expected: namespace/hostname, as istiod sends)");
        }
        var vips = new ArrayList<NetworkAddress>(s.getAddressesCount());
        var cidrVips = new ArrayList<NetworkCidr>();
        for (int i = 0; i < s.getAddressesCount(); i++) {
            var a = s.getAddresses(i);
            try {
                // a length below the address's bit length makes a CIDR VIP (new @HEAD 2026-04); the full
                // length, or none, is one address, as ztunnel reads it
                var vip = Addresses.vip(a.getNetwork(), a.getAddress(), a.hasLength() ? a.getLength() : null);
                if (vip.isSingleAddress()) {
                    vips.add(vip.address());
                } else {
                    cidrVips.add(vip);
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("addresses[" + i + "]: " + e.getMessage());
            }
        }
        var ports = new ArrayList<Port>(s.getPortsCount());
        var seen = new HashSet<Integer>();
        for (int i = 0; i < s.getPortsCount(); i++) {
            var p = WorkloadConverter.port(s.getPorts(i), "ports[" + i + "]");
            if (!seen.add(p.servicePort())) {
                throw new IllegalArgumentException(
                        "ports[" + i + "] repeats service port " + p.servicePort() + " (expected: each port once)");
            }
            ports.add(p);
        }
        for (int i = 0; i < s.getSubjectAltNamesCount(); i++) {
            try {
                SpiffeId.parse(s.getSubjectAltNames(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("subject_alt_names[" + i + "]: " + e.getMessage());
            }
        }
        return Service.builder(s.getName(), s.getNamespace(), s.getHostname())
                .vips(vips)
                .cidrVips(cidrVips)
                .ports(ports)
                .subjectAltNames(s.getSubjectAltNamesList())
                .waypoint(s.hasWaypoint() ? WorkloadConverter.gateway(s.getWaypoint(), "waypoint") : null)
                .loadBalancing(s.hasLoadBalancing() ? loadBalancing(s.getLoadBalancing()) : LoadBalancing.DEFAULT)
                .ipFamilies(
                        switch (s.getIpFamilies()) {
                            case IPV4_ONLY -> Service.IpFamilies.IPV4_ONLY;
                            case IPV6_ONLY -> Service.IpFamilies.IPV6_ONLY;
                            case DUAL -> Service.IpFamilies.DUAL;
                            default -> Service.IpFamilies.AUTOMATIC;
                        })
                .canonical(s.getCanonical())
                .visibility(
                        switch (s.getVisibility()) {
                            case PUBLIC -> Service.Visibility.PUBLIC;
                            default -> Service.Visibility.NAMESPACE;
                        })
                .build();
    }

    private static LoadBalancing loadBalancing(io.ambit.xds.proto.workload.LoadBalancing lb) {
        var scopes = new ArrayList<LoadBalancing.Scope>();
        for (var s : lb.getRoutingPreferenceList()) {
            switch (s) {
                case REGION -> scopes.add(LoadBalancing.Scope.REGION);
                case ZONE -> scopes.add(LoadBalancing.Scope.ZONE);
                case SUBZONE -> scopes.add(LoadBalancing.Scope.SUBZONE);
                case NODE -> scopes.add(LoadBalancing.Scope.NODE);
                case CLUSTER -> scopes.add(LoadBalancing.Scope.CLUSTER);
                case NETWORK -> scopes.add(LoadBalancing.Scope.NETWORK);
                default -> {} // unspecified or newer than Ambit: no preference on it
            }
        }
        var mode =
                switch (lb.getMode()) {
                    case STRICT -> LoadBalancing.Mode.STRICT;
                    case FAILOVER -> LoadBalancing.Mode.FAILOVER;
                    case PASSTHROUGH -> LoadBalancing.Mode.PASSTHROUGH;
                    default -> LoadBalancing.Mode.STANDARD;
                };
        var health =
                switch (lb.getHealthPolicy()) {
                    case ALLOW_ALL -> LoadBalancing.HealthPolicy.ALLOW_ALL;
                    default -> LoadBalancing.HealthPolicy.ONLY_HEALTHY;
                };
        return new LoadBalancing(scopes, mode, health);
    }
}
