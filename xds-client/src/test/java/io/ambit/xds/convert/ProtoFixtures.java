package io.ambit.xds.convert;

import com.google.protobuf.ByteString;
import com.google.protobuf.UInt32Value;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.proto.workload.GatewayAddress;
import io.ambit.xds.proto.workload.NetworkAddress;
import io.ambit.xds.proto.workload.Port;
import io.ambit.xds.proto.workload.PortList;
import io.ambit.xds.proto.workload.Service;
import io.ambit.xds.proto.workload.TunnelProtocol;
import io.ambit.xds.proto.workload.Workload;

/** Real proto messages as istiod builds them, for converter tests. */
final class ProtoFixtures {
    private ProtoFixtures() {}

    static ByteString ip(String text) {
        return Addresses.bytes(IpAddress.parse(text));
    }

    static Workload.Builder pod(String ns, String name, String ip) {
        return Workload.newBuilder()
                .setUid("Kubernetes//Pod/" + ns + "/" + name)
                .setName(name)
                .setNamespace(ns)
                .addAddresses(ip(ip))
                .setTunnelProtocol(TunnelProtocol.HBONE)
                .setServiceAccount(name)
                .setNode("node-1")
                .setCanonicalName(name)
                .setCanonicalRevision("v1")
                .setWorkloadName(name + "-deploy")
                .setCapacity(UInt32Value.of(1));
    }

    static Service.Builder service(String ns, String name, String vip) {
        return Service.newBuilder()
                .setName(name)
                .setNamespace(ns)
                .setHostname(name + "." + ns + ".svc.cluster.local")
                .addAddresses(NetworkAddress.newBuilder().setAddress(ip(vip)))
                .addPorts(Port.newBuilder().setServicePort(80).setTargetPort(8080));
    }

    static PortList ports(int service, int target) {
        return PortList.newBuilder()
                .addPorts(Port.newBuilder().setServicePort(service).setTargetPort(target))
                .build();
    }

    static GatewayAddress waypointAt(String ip) {
        return GatewayAddress.newBuilder()
                .setAddress(NetworkAddress.newBuilder().setAddress(ip(ip)))
                .setHboneMtlsPort(15008)
                .build();
    }
}
