package io.ambit.bench.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.UInt32Value;
import io.ambit.xds.proto.discovery.Resource;
import io.ambit.xds.proto.security.Action;
import io.ambit.xds.proto.security.Address;
import io.ambit.xds.proto.security.Authorization;
import io.ambit.xds.proto.security.Clause;
import io.ambit.xds.proto.security.Match;
import io.ambit.xds.proto.security.Rule;
import io.ambit.xds.proto.security.Scope;
import io.ambit.xds.proto.security.ServiceAccountMatch;
import io.ambit.xds.proto.security.StringMatch;
import io.ambit.xds.proto.workload.NetworkAddress;
import io.ambit.xds.proto.workload.Port;
import io.ambit.xds.proto.workload.PortList;
import io.ambit.xds.proto.workload.Service;
import io.ambit.xds.proto.workload.TunnelProtocol;
import io.ambit.xds.proto.workload.Workload;
import java.util.ArrayList;
import java.util.List;

/**
 * The mesh the xDS benchmark serves, as istiod would send it: W workloads in 50 namespaces (one service
 * per 100 workloads), P Authorizations — per namespace a share of NAMESPACE-scoped ALLOWs (istiod's
 * from/to shape: principals, namespaces, service accounts, ports), WORKLOAD_SELECTOR ALLOWs listed by
 * the workloads they select (each workload lists two), and DENYs on source CIDRs — plus istiod's static
 * mesh-wide STRICT DENY. Deterministic.
 */
final class BenchMesh {
    static final int NAMESPACES = 50;

    final List<Resource> addresses = new ArrayList<>();
    final List<Resource> authorizations = new ArrayList<>();
    private final int workloads;
    private final int policies;

    BenchMesh(int workloads, int policies) {
        this.workloads = workloads;
        this.policies = policies;
        for (int a = 0; a < policies - 1; a++) {
            authorizations.add(authorization(a, 1));
        }
        authorizations.add(resource(
                "istio-system/istio_converted_static_strict",
                "1",
                Any.pack(Authorization.newBuilder()
                        .setName("istio_converted_static_strict")
                        .setNamespace("istio-system")
                        .setScope(Scope.GLOBAL)
                        .setAction(Action.DENY)
                        .addRules(Rule.newBuilder()
                                .addClauses(Clause.newBuilder()
                                        .addMatches(Match.newBuilder()
                                                .addNotPrincipals(StringMatch.newBuilder()
                                                        .setPresence(Empty.getDefaultInstance())))))
                        .build())));
        for (int s = 0; s < (workloads + 99) / 100; s++) {
            addresses.add(service(s));
        }
        for (int i = 0; i < workloads; i++) {
            addresses.add(workload(i, 1));
        }
    }

    static String ns(int i) {
        return "ns" + (i % NAMESPACES);
    }

    /** Workload {@code i} at capacity {@code capacity} (a change of capacity is a new version). */
    Resource workload(int i, int capacity) {
        String ns = ns(i);
        String uid = "Kubernetes//Pod/" + ns + "/w" + i;
        var w = Workload.newBuilder()
                .setUid(uid)
                .setName("w" + i)
                .setNamespace(ns)
                .addAddresses(ip(10, 1 + i / 65536, (i / 256) % 256, i % 256))
                .setTunnelProtocol(TunnelProtocol.HBONE)
                .setServiceAccount("sa" + (i % 10))
                .setNode("node-" + (i % 100))
                .setCanonicalName("app" + (i % 20))
                .setCanonicalRevision("v1")
                .setWorkloadName("app" + (i % 20) + "-deploy")
                .setClusterId("Kubernetes")
                .putServices(
                        "svc/s" + (i / 100) + ".svc.cluster.local",
                        PortList.newBuilder()
                                .addPorts(Port.newBuilder().setServicePort(80).setTargetPort(8080))
                                .build())
                .setCapacity(UInt32Value.of(capacity));
        // each workload is selected by two of its namespace's selector policies, as istiod lists them
        int perNs = Math.max(1, (policies - 1) / NAMESPACES);
        int selectors = perNs / 2;
        if (selectors > 0) {
            int nsIndex = i % NAMESPACES;
            for (int k = 0; k < 2; k++) {
                int slot = ((i / NAMESPACES) + k) % selectors;
                int index = nsIndex + NAMESPACES * (perNs - selectors + slot);
                if (index < policies - 1) {
                    w.addAuthorizationPolicies(ns + "/p" + index);
                }
            }
        }
        return resource(
                uid,
                "c" + capacity,
                Any.pack(io.ambit.xds.proto.workload.Address.newBuilder()
                        .setWorkload(w)
                        .build()));
    }

    private Resource service(int s) {
        var svc = Service.newBuilder()
                .setName("s" + s)
                .setNamespace("svc")
                .setHostname("s" + s + ".svc.cluster.local")
                .addAddresses(NetworkAddress.newBuilder().setAddress(ip(10, 96, s / 256, s % 256)))
                .addPorts(Port.newBuilder().setServicePort(80).setTargetPort(8080));
        return resource(
                "svc/s" + s + ".svc.cluster.local",
                "1",
                Any.pack(io.ambit.xds.proto.workload.Address.newBuilder()
                        .setService(svc)
                        .build()));
    }

    /**
     * Authorization {@code a}: its namespace is {@code a % 50}; the first half of each namespace's share
     * is namespace-wide, the second half selector policies; every fifth is a DENY on source CIDRs.
     * {@code port} is varied by updates.
     */
    Resource authorization(int a, int generation) {
        String ns = ns(a);
        int perNs = Math.max(1, (policies - 1) / NAMESPACES);
        int slot = a / NAMESPACES;
        boolean selector = slot >= perNs - perNs / 2;
        boolean deny = a % 5 == 4;
        var b = Authorization.newBuilder()
                .setName("p" + a)
                .setNamespace(ns)
                .setScope(selector ? Scope.WORKLOAD_SELECTOR : Scope.NAMESPACE)
                .setAction(deny ? Action.DENY : Action.ALLOW);
        for (int r = 0; r < 3; r++) {
            var from = Clause.newBuilder();
            if (deny) {
                from.addMatches(Match.newBuilder()
                        .addSourceIps(Address.newBuilder()
                                .setAddress(ip(192, 0, 2 + r, 0))
                                .setLength(24)));
            } else {
                from.addMatches(Match.newBuilder()
                                .addPrincipals(StringMatch.newBuilder()
                                        .setExact("cluster.local/ns/" + ns((a + r + 1)) + "/sa/sa" + r)))
                        .addMatches(Match.newBuilder()
                                .addNamespaces(StringMatch.newBuilder().setExact("ns" + ((a + r) % NAMESPACES))))
                        .addMatches(Match.newBuilder()
                                .addServiceAccounts(ServiceAccountMatch.newBuilder()
                                        .setNamespace(ns)
                                        .setServiceAccount("sa" + r)));
            }
            var to = Clause.newBuilder()
                    .addMatches(
                            Match.newBuilder().addDestinationPorts(8080 + r).addDestinationPorts(9000 + generation));
            b.addRules(Rule.newBuilder().addClauses(from).addClauses(to));
        }
        return resource(ns + "/p" + a, "g" + generation, Any.pack(b.build()));
    }

    private static Resource resource(String name, String version, Any any) {
        return Resource.newBuilder()
                .setName(name)
                .setVersion(version)
                .setResource(any)
                .build();
    }

    private static ByteString ip(int a, int b, int c, int d) {
        return ByteString.copyFrom(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    }

    int workloadCount() {
        return workloads;
    }
}
