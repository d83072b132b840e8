package io.ambit.ztunnel.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.outbound.OutboundRouter;
import org.junit.jupiter.api.Test;

/**
 * ztunnel-reference.md §7: of several services with one hostname (ServiceEntries in several namespaces), a
 * client gets the one in its own namespace, else a canonical one, else the first; a service of
 * {@code Namespace} visibility exists only for clients in its namespace.
 */
class ServiceByNameTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: shopper, namespace: shop, serviceAccount: a, workloadIps: ["127.139.1.1"]}
            - {name: stranger, namespace: elsewhere, serviceAccount: b, workloadIps: ["127.139.1.2"]}
            - {name: keeper, namespace: vault, serviceAccount: c, workloadIps: ["127.139.1.3"]}
            services:
            - {name: api, namespace: third, hostname: api.example.com, vips: ["/127.139.9.1"], ports: {443: 443}}
            - {name: api, namespace: platform, hostname: api.example.com, vips: ["/127.139.9.2"], ports: {443: 443},
               canonical: true}
            - {name: api, namespace: shop, hostname: api.example.com, vips: ["/127.139.9.3"], ports: {443: 443}}
            - {name: secret, namespace: vault, hostname: secret.vault.svc.cluster.local, vips: ["/127.139.9.4"],
               ports: {80: 80}, visibility: Namespace}
            """;

    private final MeshState state = parse();

    @Test
    void theClientsOwnNamespaceWinsThenTheCanonicalService() {
        assertThat(namespaceOf("shopper", "api.example.com")).isEqualTo("shop");
        assertThat(namespaceOf("stranger", "api.example.com")).isEqualTo("platform");
    }

    @Test
    void aNamespaceVisibleServiceIsSeenOnlyFromItsNamespace() {
        assertThat(OutboundRouter.serviceByName(state, workload("keeper"), "secret.vault"))
                .map(Service::namespace)
                .contains("vault");
        assertThat(OutboundRouter.serviceByName(state, workload("shopper"), "secret.vault"))
                .isEmpty();
        assertThat(OutboundRouter.serviceByName(state, workload("shopper"), "secret.vault.svc.cluster.local"))
                .isEmpty();
    }

    private String namespaceOf(String source, String name) {
        return OutboundRouter.serviceByName(state, workload(source), name)
                .orElseThrow()
                .namespace();
    }

    private Workload workload(String name) {
        return state.workloads().stream()
                .filter(w -> w.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    private static MeshState parse() {
        try {
            return LocalMeshFile.parse(MESH, "names.yaml");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
