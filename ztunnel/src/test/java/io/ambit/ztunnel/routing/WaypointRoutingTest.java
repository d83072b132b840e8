package io.ambit.ztunnel.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.outbound.OutboundRouter;
import io.ambit.ztunnel.outbound.Route;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ztunnel-reference.md §1.4 steps 1 and 4: traffic to a service or workload with a waypoint goes to it. */
class WaypointRoutingTest {
    private static final String MESH = """
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, workloadIps: ["127.95.1.1"]}
            - name: waypoint
              namespace: shop
              serviceAccount: waypoint
              workloadIps: ["127.95.3.1"]
              services: {"shop/waypoint.shop.svc.cluster.local": {15008: 15008}}
            - name: cart-1
              namespace: shop
              serviceAccount: cart
              workloadIps: ["127.95.2.1"]
              services: {"shop/cart.shop.svc.cluster.local": {80: 8080}}
            - name: pinned
              namespace: shop
              serviceAccount: pinned
              workloadIps: ["127.95.2.2"]
              waypoint: {destination: {address: "/127.95.3.1"}}
            - name: orders-1
              namespace: shop
              serviceAccount: orders
              workloadIps: ["127.95.2.3"]
              services: {"shop/orders.shop.svc.cluster.local": {80: 8080}}
            services:
            - name: waypoint
              namespace: shop
              hostname: waypoint.shop.svc.cluster.local
              vips: ["/127.95.10.9"]
              ports: {15008: 15008}
            - name: cart
              namespace: shop
              hostname: cart.shop.svc.cluster.local
              vips: ["/127.95.10.1"]
              ports: {80: 8080}
              waypoint: {destination: {hostname: {namespace: shop, hostname: waypoint.shop.svc.cluster.local}}}
            - name: orders
              namespace: shop
              hostname: orders.shop.svc.cluster.local
              vips: ["/127.95.10.2"]
              ports: {80: 8080}
              waypoint: {destination: {address: "/127.95.10.77"}}
            """;

    private final MeshState state = parse(MESH);
    private final OutboundRouter router = new OutboundRouter(15008, bound -> 0);

    @Test
    void aServiceWithAWaypointIsTunnelledToTheWaypointWithTheVipAsAuthority() {
        var route = (Route.Hbone) router.route(state, workload("client"), ip("127.95.10.1"), 80);
        assertThat(route.hbone().getAddress().getHostAddress()).isEqualTo("127.95.3.1");
        assertThat(route.hbone().getPort()).isEqualTo(15008);
        assertThat(route.target().getAddress().getHostAddress()).isEqualTo("127.95.10.1");
        assertThat(route.target().getPort()).isEqualTo(80);
        assertThat(route.identities()).containsExactly(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/waypoint"));
        assertThat(route.service()).isEqualTo("cart.shop.svc.cluster.local");
        assertThat(route.workload()).isEqualTo("waypoint");
    }

    @Test
    void aServiceNamedByHostnameAlsoGoesThroughItsWaypoint() {
        var cart = OutboundRouter.serviceByName(state, "cart.shop").orElseThrow();
        var route = (Route.Hbone) router.toService(state, cart, 80);
        assertThat(route.hbone().getAddress().getHostAddress()).isEqualTo("127.95.3.1");
        assertThat(route.target().getAddress().getHostAddress()).isEqualTo("127.95.10.1");
    }

    @Test
    void theWaypointItselfReachesTheEndpointDirectly() {
        var route = (Route.Hbone) router.route(state, workload("waypoint"), ip("127.95.10.1"), 80);
        assertThat(route.hbone().getAddress().getHostAddress()).isEqualTo("127.95.2.1");
        assertThat(route.target().getPort()).isEqualTo(8080);
        assertThat(route.identities()).containsExactly(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/cart"));
    }

    @Test
    void aWorkloadIpWithAWaypointGoesThroughItWithThePodAuthority() {
        var route = (Route.Hbone) router.route(state, workload("client"), ip("127.95.2.2"), 9000);
        assertThat(route.hbone().getAddress().getHostAddress()).isEqualTo("127.95.3.1");
        assertThat(route.target().getAddress().getHostAddress()).isEqualTo("127.95.2.2");
        assertThat(route.target().getPort()).isEqualTo(9000);
    }

    @Test
    void anUnresolvableWaypointRefusesRatherThanSkippingTheL7Policy() {
        var route = router.route(state, workload("client"), ip("127.95.10.2"), 80);
        assertThat(route).isInstanceOf(Route.Refused.class);
        assertThat(((Route.Refused) route).reason())
                .contains("waypoint of service orders.shop.svc.cluster.local")
                .contains("no healthy workload");
    }

    @Test
    void aServiceWithoutAWaypointStillGoesToItsEndpoint() {
        var plain = parse(MESH.replace(
                "  waypoint: {destination: {hostname: {namespace: shop, hostname: waypoint.shop.svc.cluster.local}}}\n",
                ""));
        var route = (Route.Hbone) router.route(plain, workload("client"), ip("127.95.10.1"), 80);
        assertThat(route.hbone().getAddress().getHostAddress()).isEqualTo("127.95.2.1");
    }

    @Test
    void aNamedTargetPortNoEndpointResolvesIsRefusedNotDialledAtZero() {
        // istiod sends target port 0 for a named port each endpoint resolves; the file cannot say that
        var key = new NamespacedHostname("shop", "orders.shop.svc.cluster.local");
        var workloads = state.workloads().stream()
                .map(w -> w.name().equals("orders-1")
                        ? w.toBuilder().services(Map.of(key, List.of())).build()
                        : w)
                .toList();
        var services = state.services().stream()
                .map(sv -> sv.hostname().equals(key.hostname())
                        ? Service.builder(sv.name(), sv.namespace(), sv.hostname())
                                .vips(sv.vips())
                                .ports(List.of(new Port(80, 0)))
                                .subjectAltNames(sv.subjectAltNames())
                                .loadBalancing(sv.loadBalancing())
                                .build()
                        : sv)
                .toList();
        var named = MeshState.of(workloads, services, state.policies(), "test");
        var orders = OutboundRouter.serviceByName(named, "orders.shop").orElseThrow();
        var route = router.toService(named, null, orders, 80);
        assertThat(route).isInstanceOf(Route.Refused.class);
        assertThat(((Route.Refused) route).reason()).contains("has no target port on orders-1");
    }

    private Workload workload(String name) {
        return state.workloads().stream()
                .filter(w -> w.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    private static IpAddress ip(String text) {
        return IpAddress.tryParse(text).orElseThrow();
    }

    private static MeshState parse(String text) {
        try {
            return LocalMeshFile.parse(text, "routing.yaml");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
