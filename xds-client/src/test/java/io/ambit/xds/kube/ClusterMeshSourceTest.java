package io.ambit.xds.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.LoadError;
import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Workloads from one source, policies from the other: each update of either publishes one merged state. */
class ClusterMeshSourceTest {
    static final String ENDPOINTS = """
            workloads:
            - {name: web, namespace: shop, workloadIps: ["127.134.9.1"], services: {"shop/web.shop.svc.cluster.local": {80: 8080}}}
            services:
            - {name: web, namespace: shop, hostname: web.shop.svc.cluster.local, vips: ["/127.134.9.100"], ports: {80: 8080}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: from-istiod, namespace: shop}
            spec: {action: DENY, rules: [{from: [{source: {namespaces: ["x"]}}]}]}
            """;
    static final String POLICIES = """
            mesh: {meshConfig: {}}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: from-kubernetes, namespace: shop}
            spec: {action: DENY, rules: [{to: [{operation: {paths: ["/admin"]}}]}]}
            """;

    /** A source whose state the test sets. */
    static final class Settable implements MeshSource {
        volatile MeshState state;
        final List<Listener> listeners = new CopyOnWriteArrayList<>();
        boolean closed;

        Settable(MeshState state) {
            this.state = state;
        }

        void set(MeshState next) {
            state = next;
            listeners.forEach(l -> l.updated(next));
        }

        @Override
        public MeshState current() {
            return state;
        }

        @Override
        public void addListener(Listener listener) {
            listeners.add(listener);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    static List<String> names(MeshState s) {
        return s.policies().policies().authorizationPolicies().stream()
                .map(p -> p.meta().name())
                .toList();
    }

    @Test
    void workloadsComeFromOneSourceAndPoliciesOnlyFromTheOther() throws Exception {
        var endpoints = new Settable(LocalMeshFile.parse(ENDPOINTS, "xds", List.of()));
        var policies = new Settable(LocalMeshFile.parse(POLICIES, "kube", List.of()));
        var merged = ClusterMeshSource.of(endpoints, policies, List.of());
        var seen = new ArrayList<MeshState>();
        merged.addListener(new MeshSource.Listener() {
            @Override
            public void updated(MeshState state) {
                seen.add(state);
            }

            @Override
            public void rejected(List<LoadError> errors) {}
        });
        assertThat(merged.current().workloads()).extracting(w -> w.name()).containsExactly("web");
        assertThat(merged.current().serviceByVip(io.ambit.policy.match.IpAddress.parse("127.134.9.100")))
                .isPresent();
        assertThat(names(merged.current())).containsExactly("from-kubernetes");

        policies.set(LocalMeshFile.parse("mesh: {meshConfig: {}}\n", "kube", List.of()));
        assertThat(names(merged.current())).isEmpty();
        assertThat(merged.current().workloads()).hasSize(1);
        endpoints.set(LocalMeshFile.parse("workloads: []\n", "xds", List.of()));
        assertThat(merged.current().workloads()).isEmpty();
        assertThat(seen).hasSize(2);

        merged.close();
        assertThat(endpoints.closed).isTrue();
        assertThat(policies.closed).isTrue();
    }
}
