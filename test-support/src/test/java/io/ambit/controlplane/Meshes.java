package io.ambit.controlplane;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Workload;
import java.util.ArrayList;
import java.util.List;

/** Mesh files for the control plane tests (addresses in 127.91.0.0/16). */
final class Meshes {
    private Meshes() {}

    static final String SHOP = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: web, namespace: shop, serviceAccount: web, workloadIps: ["127.91.1.1"], node: node-a,
               labels: {app: web}, services: {"shop/web.shop.svc.cluster.local": {80: 8080}}}
            - {name: client, namespace: shop, serviceAccount: client, workloadIps: ["127.91.1.2"], node: node-a,
               labels: {app: client}}
            - {name: other, namespace: other, serviceAccount: other, workloadIps: ["127.91.1.3"], node: node-b,
               labels: {app: other}}
            services:
            - {name: web, namespace: shop, hostname: web.shop.svc.cluster.local, vips: ["/127.91.2.1"], ports: {80: 8080}}
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec: {mtls: {mode: STRICT}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: web-allow-client, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              action: ALLOW
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/client"]}}]
                to: [{operation: {ports: ["8080"]}}]
            """;

    /** A policy that also admits {@code other} to web (appended to {@link #SHOP}). */
    static final String ALLOW_OTHER = """
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: web-allow-other, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              action: ALLOW
              rules:
              - from: [{source: {namespaces: ["other"]}}]
            """;

    /** {@code n} workloads on 20 nodes, in 50 namespaces, backing one of {@code n/100} services each. */
    static String large(int n) {
        var b = new StringBuilder("mesh: {rootNamespace: istio-system}\nworkloads:\n");
        for (int i = 0; i < n; i++) {
            b.append("- {name: w")
                    .append(i)
                    .append(", namespace: ns")
                    .append(i % 50)
                    .append(", workloadIps: [\"127.91.")
                    .append(100 + i / 250)
                    .append('.')
                    .append(i % 250 + 1)
                    .append("\"], node: node-")
                    .append(i % 20)
                    .append(", labels: {app: a")
                    .append(i % 100)
                    .append("}, services: {\"svc/s")
                    .append(i / 100)
                    .append(".svc\": {80: 8080}}}\n");
        }
        b.append("services:\n");
        for (int s = 0; s < (n + 99) / 100; s++) {
            b.append("- {name: s")
                    .append(s)
                    .append(", namespace: svc, hostname: s")
                    .append(s)
                    .append(".svc, vips: [\"/127.91.")
                    .append(200 + s / 250)
                    .append('.')
                    .append(s % 250 + 1)
                    .append("\"], ports: {80: 8080}}\n");
        }
        return b.toString();
    }

    /**
     * Every (destination workload, source identity or plaintext, port) decision of {@code state}'s
     * policies, as readable lines: what a test compares between the file and what arrived over xDS.
     */
    static List<String> decisions(MeshState state) {
        var out = new ArrayList<String>();
        var peers = new ArrayList<String>();
        for (var w : state.workloads()) {
            peers.add(w.identity().principal());
        }
        peers.sort(null);
        peers.addFirst(null);
        for (Workload dest : state.workloads().stream()
                .sorted(java.util.Comparator.comparing(Workload::uid))
                .toList()) {
            for (String peer : peers) {
                for (int port : new int[] {8080, 9090}) {
                    var r = AccessRequest.builder()
                            .peer(peer)
                            .sourceIp("127.91.9.9")
                            .destinationIp(dest.ips().getFirst().ip().toString())
                            .port(port)
                            .destination(dest.namespace(), dest.labels())
                            .build();
                    out.add(dest.uid() + " <- " + peer + " :" + port + " "
                            + (state.policies().decideL4(r).allowed() ? "ALLOW" : "DENY"));
                }
            }
        }
        return out;
    }
}
