package io.ambit.ztunnel.dns;

import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A mesh whose state the test sets; listeners are not needed by the DNS proxy (it reads per query). */
final class FixedMesh implements MeshSource {
    volatile MeshState state;

    FixedMesh(MeshState state) {
        this.state = state;
    }

    @Override
    public MeshState current() {
        return state;
    }

    @Override
    public void addListener(Listener listener) {}

    @Override
    public void close() {}

    static NetworkAddress ip(String s) {
        return NetworkAddress.of(IpAddress.parse(s));
    }

    static Service service(String name, String ns, String host, String... vips) {
        var list = new ArrayList<NetworkAddress>();
        for (var v : vips) {
            list.add(ip(v));
        }
        return Service.builder(name, ns, host)
                .vips(list)
                .ports(List.of(new Port(80, 8080)))
                .build();
    }

    static Workload workload(String uid, String ns, String ip, Service... backs) {
        var b = Workload.builder(uid, uid, ns)
                .ips(List.of(ip(ip)))
                .canonicalName(uid)
                .canonicalRevision("v1");
        if (backs.length > 0) {
            var m = new java.util.LinkedHashMap<NamespacedHostname, List<Port>>();
            for (var s : backs) {
                m.put(s.key(), List.of(new Port(80, 8080)));
            }
            b.services(m);
        }
        return b.build();
    }

    /**
     * The mesh the DNS tests ask about: httpbin.default (v4 + v6 VIPs), *.example.com (wildcard), secret in
     * namespace private seen only there, db.default headless (two healthy endpoints, one unhealthy), a
     * VIP-less ServiceEntry host ext.example.org, and the client "sleep" in default at 127.150.0.1.
     */
    static MeshState standard() {
        var httpbin = service("httpbin", "default", "httpbin.default.svc.cluster.local", "10.96.0.10", "fd00::10");
        var wildcard = service("wild", "default", "*.example.com", "240.240.0.1");
        var secret = Service.builder("secret", "private", "secret.private.svc.cluster.local")
                .vips(List.of(ip("10.96.0.20")))
                .ports(List.of(new Port(80, 8080)))
                .visibility(Service.Visibility.NAMESPACE)
                .build();
        var db = service("db", "default", "db.default.svc.cluster.local");
        var ext = service("ext", "default", "ext.example.org");
        var workloads = List.of(
                workload("sleep", "default", "127.150.0.1"),
                workload("insider", "private", "127.150.0.2"),
                workload("db-0", "default", "10.0.0.1", db),
                workload("db-1", "default", "10.0.0.2", db),
                workload("db-2", "default", "10.0.0.3", db).toBuilder()
                        .status(Workload.Status.UNHEALTHY)
                        .build(),
                workload("httpbin-1", "default", "10.0.1.1", httpbin));
        return MeshState.of(
                workloads,
                List.of(httpbin, wildcard, secret, db, ext),
                PolicySnapshot.empty(MeshConfig.DEFAULT),
                "dns-test");
    }

    static Workload client(MeshState state, String uid) {
        return state.workloadByUid(uid).orElseThrow();
    }

    static Map<String, String> none() {
        return Map.of();
    }
}
