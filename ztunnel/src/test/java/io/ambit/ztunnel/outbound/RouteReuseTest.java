package io.ambit.ztunnel.outbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Workload;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A route lives as long as its connection: connections that take the same route share one object instead
 * of each holding its own socket addresses and identity set (memory per idle connection). The choice of
 * endpoint is unchanged: it is made before the reuse, for every connection.
 */
class RouteReuseTest {
    private static final String MESH = """
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, workloadIps: ["127.132.1.1"]}
            - name: cart-1
              namespace: shop
              serviceAccount: cart
              workloadIps: ["127.132.2.1"]
              services: {"shop/cart.shop.svc.cluster.local": {80: 8080}}
            - name: cart-2
              namespace: shop
              serviceAccount: cart
              workloadIps: ["127.132.2.2"]
              services: {"shop/cart.shop.svc.cluster.local": {80: 8080}}
            services:
            - name: cart
              namespace: shop
              hostname: cart.shop.svc.cluster.local
              vips: ["/127.132.10.1"]
              ports: {80: 8080, 81: 8081}
              subjectAltNames: ["spiffe://cluster.local/ns/shop/sa/cart-san"]
            """;

    @Test
    void twoConnectionsToTheSameWorkloadPortShareOneRoute() {
        MeshState state = parse();
        var router = new OutboundRouter(15008, bound -> 0);
        var first = (Route.Hbone) router.route(state, workload(state, "client"), ip("127.132.2.1"), 9000);
        var second = (Route.Hbone) router.route(state, workload(state, "client"), ip("127.132.2.1"), 9000);

        assertThat(second).isSameAs(first);
        assertThat(first.hbone().getAddress().getHostAddress()).isEqualTo("127.132.2.1");
        assertThat(first.hbone().getPort()).isEqualTo(15008);
        assertThat(first.target().getPort()).isEqualTo(9000);
        assertThat(first.identities()).containsExactly(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/cart"));
        assertThat(first.workload()).isEqualTo("cart-1");
    }

    @Test
    void anotherPortOrAnotherWorkloadIsAnotherRoute() {
        MeshState state = parse();
        var router = new OutboundRouter(15008, bound -> 0);
        var route = (Route.Hbone) router.route(state, null, ip("127.132.2.1"), 9000);
        var otherPort = (Route.Hbone) router.route(state, null, ip("127.132.2.1"), 9001);
        var otherWorkload = (Route.Hbone) router.route(state, null, ip("127.132.2.2"), 9000);

        assertThat(otherPort.target().getPort()).isEqualTo(9001);
        assertThat(otherWorkload.workload()).isEqualTo("cart-2");
        assertThat(router.route(state, null, ip("127.132.2.1"), 9000)).isSameAs(route);
    }

    @Test
    void aServiceStillPicksAnEndpointForEveryConnectionAndKeepsItsSans() {
        MeshState state = parse();
        var picks = new AtomicInteger();
        // alternate between the two endpoints (capacity 1 each: bound 2)
        var router = new OutboundRouter(15008, bound -> picks.getAndIncrement() % bound);
        var a = (Route.Hbone) router.route(state, null, ip("127.132.10.1"), 80);
        var b = (Route.Hbone) router.route(state, null, ip("127.132.10.1"), 80);
        var a2 = (Route.Hbone) router.route(state, null, ip("127.132.10.1"), 80);

        assertThat(a.workload()).isEqualTo("cart-1");
        assertThat(b.workload()).isEqualTo("cart-2");
        assertThat(a2).isSameAs(a);
        assertThat(a.service()).isEqualTo("cart.shop.svc.cluster.local");
        assertThat(a.target().getPort()).isEqualTo(8080);
        assertThat(a.identities())
                .containsExactlyInAnyOrder(
                        SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/cart"),
                        SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/cart-san"));
        assertThat(((Route.Hbone) router.route(state, null, ip("127.132.10.1"), 81))
                        .target()
                        .getPort())
                .isEqualTo(8081);
    }

    @Test
    void aNewMeshSnapshotGetsFreshRoutesFromItsOwnWorkloads() {
        var router = new OutboundRouter(15008, bound -> 0);
        var before = (Route.Hbone) router.route(parse(), null, ip("127.132.2.1"), 9000);
        var after = (Route.Hbone) router.route(parse(), null, ip("127.132.2.1"), 9000);

        assertThat(after).isNotSameAs(before).isEqualTo(before);
    }

    private static Workload workload(MeshState state, String name) {
        return state.workloads().stream()
                .filter(w -> w.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    private static IpAddress ip(String text) {
        return IpAddress.parse(text);
    }

    private static MeshState parse() {
        try {
            return LocalMeshFile.parse(MESH, "reuse.yaml");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
