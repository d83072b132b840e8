package io.ambit.controlplane;

import com.google.protobuf.ByteString;
import com.google.protobuf.UInt32Value;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.GatewayAddress;
import io.ambit.xds.mesh.LoadBalancing;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.xds.proto.workload.ApplicationTunnel;
import io.ambit.xds.proto.workload.IPFamilies;
import io.ambit.xds.proto.workload.Locality;
import io.ambit.xds.proto.workload.NamespacedHostname;
import io.ambit.xds.proto.workload.NetworkMode;
import io.ambit.xds.proto.workload.PortList;
import io.ambit.xds.proto.workload.TunnelProtocol;
import io.ambit.xds.proto.workload.Visibility;
import io.ambit.xds.proto.workload.WorkloadStatus;
import io.ambit.xds.proto.workload.WorkloadType;
import java.util.List;

/** The mesh model back into istio.workload messages, as istiod would write them. */
final class WireForm {
    private WireForm() {}

    static ByteString bytes(IpAddress ip) {
        if (ip.isV4()) {
            int v = ip.v4();
            return ByteString.copyFrom(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        }
        byte[] b = new byte[16];
        long hi = ip.hi();
        long lo = ip.lo();
        for (int i = 7; i >= 0; i--) {
            b[i] = (byte) hi;
            b[i + 8] = (byte) lo;
            hi >>>= 8;
            lo >>>= 8;
        }
        return ByteString.copyFrom(b);
    }

    static io.ambit.xds.proto.workload.Workload workload(Workload w, List<String> policies) {
        var b = io.ambit.xds.proto.workload.Workload.newBuilder()
                .setUid(w.uid())
                .setName(w.name())
                .setNamespace(w.namespace())
                .setHostname(w.hostname())
                .setNetwork(w.network())
                .setTunnelProtocol(w.protocol() == Workload.Protocol.HBONE ? TunnelProtocol.HBONE : TunnelProtocol.NONE)
                .setTrustDomain(w.trustDomain())
                .setServiceAccount(w.serviceAccount())
                .setNode(w.node())
                .setCanonicalName(w.canonicalName())
                .setCanonicalRevision(w.canonicalRevision())
                .setWorkloadType(
                        switch (w.workloadType()) {
                            case DEPLOYMENT -> WorkloadType.DEPLOYMENT;
                            case CRONJOB -> WorkloadType.CRONJOB;
                            case JOB -> WorkloadType.JOB;
                            default -> WorkloadType.POD;
                        })
                .setWorkloadName(w.workloadName())
                .setNativeTunnel(w.nativeTunnel())
                .addAllAuthorizationPolicies(policies)
                .setStatus(w.status() == Workload.Status.HEALTHY ? WorkloadStatus.HEALTHY : WorkloadStatus.UNHEALTHY)
                .setClusterId(w.clusterId())
                .setNetworkMode(
                        w.networkMode() == Workload.NetworkMode.HOST_NETWORK
                                ? NetworkMode.HOST_NETWORK
                                : NetworkMode.STANDARD)
                .setCapacity(UInt32Value.of(w.capacity()));
        for (var ip : w.ips()) {
            b.addAddresses(bytes(ip.ip()));
        }
        if (w.waypoint() != null) {
            b.setWaypoint(gateway(w.waypoint()));
        }
        if (w.networkGateway() != null) {
            b.setNetworkGateway(gateway(w.networkGateway()));
        }
        if (w.applicationTunnel() != null) {
            b.setApplicationTunnel(ApplicationTunnel.newBuilder()
                    .setProtocol(
                            w.applicationTunnel().protocol() == io.ambit.xds.mesh.ApplicationTunnel.Protocol.PROXY
                                    ? ApplicationTunnel.Protocol.PROXY
                                    : ApplicationTunnel.Protocol.NONE)
                    .setPort(w.applicationTunnel().port()));
        }
        if (!w.locality().isEmpty()) {
            b.setLocality(Locality.newBuilder()
                    .setRegion(w.locality().region())
                    .setZone(w.locality().zone())
                    .setSubzone(w.locality().subzone()));
        }
        w.services().forEach((key, ports) -> b.putServices(key.toString(), ports(ports)));
        return b.build();
    }

    static io.ambit.xds.proto.workload.Service service(Service s) {
        var b = io.ambit.xds.proto.workload.Service.newBuilder()
                .setName(s.name())
                .setNamespace(s.namespace())
                .setHostname(s.hostname())
                .addAllSubjectAltNames(s.subjectAltNames())
                .setCanonical(s.canonical())
                .setIpFamilies(
                        switch (s.ipFamilies()) {
                            case IPV4_ONLY -> IPFamilies.IPV4_ONLY;
                            case IPV6_ONLY -> IPFamilies.IPV6_ONLY;
                            case DUAL -> IPFamilies.DUAL;
                            case AUTOMATIC -> IPFamilies.AUTOMATIC;
                        })
                .setVisibility(
                        s.visibility() == Service.Visibility.NAMESPACE ? Visibility.NAMESPACE : Visibility.PUBLIC);
        for (var vip : s.vips()) {
            b.addAddresses(address(vip));
        }
        for (var range : s.cidrVips()) {
            b.addAddresses(io.ambit.xds.proto.workload.NetworkAddress.newBuilder()
                    .setNetwork(range.network())
                    .setAddress(bytes(range.cidr().address()))
                    .setLength(range.prefixLength()));
        }
        b.addAllPorts(ports(s.ports()).getPortsList());
        if (s.waypoint() != null) {
            b.setWaypoint(gateway(s.waypoint()));
        }
        if (!s.loadBalancing().equals(LoadBalancing.DEFAULT)) {
            var lb = io.ambit.xds.proto.workload.LoadBalancing.newBuilder()
                    .setMode(
                            switch (s.loadBalancing().mode()) {
                                case STANDARD -> io.ambit.xds.proto.workload.LoadBalancing.Mode.UNSPECIFIED_MODE;
                                case STRICT -> io.ambit.xds.proto.workload.LoadBalancing.Mode.STRICT;
                                case FAILOVER -> io.ambit.xds.proto.workload.LoadBalancing.Mode.FAILOVER;
                                case PASSTHROUGH -> io.ambit.xds.proto.workload.LoadBalancing.Mode.PASSTHROUGH;
                            })
                    .setHealthPolicy(
                            s.loadBalancing().healthPolicy() == LoadBalancing.HealthPolicy.ALLOW_ALL
                                    ? io.ambit.xds.proto.workload.LoadBalancing.HealthPolicy.ALLOW_ALL
                                    : io.ambit.xds.proto.workload.LoadBalancing.HealthPolicy.ONLY_HEALTHY);
            for (var scope : s.loadBalancing().routingPreference()) {
                lb.addRoutingPreference(io.ambit.xds.proto.workload.LoadBalancing.Scope.valueOf(scope.name()));
            }
            b.setLoadBalancing(lb);
        }
        return b.build();
    }

    static io.ambit.xds.proto.workload.NetworkAddress address(NetworkAddress a) {
        return io.ambit.xds.proto.workload.NetworkAddress.newBuilder()
                .setNetwork(a.network())
                .setAddress(bytes(a.ip()))
                .build();
    }

    private static PortList ports(List<Port> ports) {
        var b = PortList.newBuilder();
        for (var p : ports) {
            b.addPorts(io.ambit.xds.proto.workload.Port.newBuilder()
                    .setServicePort(p.servicePort())
                    .setTargetPort(p.targetPort()));
        }
        return b.build();
    }

    private static io.ambit.xds.proto.workload.GatewayAddress gateway(GatewayAddress g) {
        var b = io.ambit.xds.proto.workload.GatewayAddress.newBuilder().setHboneMtlsPort(g.hboneMtlsPort());
        if (g.address() != null) {
            b.setAddress(address(g.address()));
        } else {
            b.setHostname(NamespacedHostname.newBuilder()
                    .setNamespace(g.hostname().namespace())
                    .setHostname(g.hostname().hostname()));
        }
        return b.build();
    }
}
