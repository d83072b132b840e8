package io.ambit.ztunnel.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.match.IpAddress;
import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.outbound.OutboundRouter;
import io.ambit.ztunnel.outbound.Route;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * ztunnel-reference.md §7 "Service VIP load balancing": a service's {@code loadBalancer} decides which
 * endpoints a connection may go to before the pick weighted by capacity — FAILOVER keeps the endpoints
 * that share the most routing preferences with the source, in order; STRICT only those that share them
 * all; AllowAll takes unhealthy endpoints too; PASSTHROUGH goes to the address the client dialed; no
 * preference (or no source workload) spreads over every healthy endpoint.
 */
class LoadBalancingTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, node: node-a, workloadIps: ["127.138.1.1"],
               locality: {region: r1, zone: z1}}
            - {name: loner, namespace: shop, serviceAccount: client, node: node-x, workloadIps: ["127.138.1.2"],
               locality: {region: r3, zone: z3}}
            - {name: near, namespace: shop, serviceAccount: web, node: node-b, workloadIps: ["127.138.2.1"],
               locality: {region: r1, zone: z1}, services: {"shop/close.shop.svc.cluster.local": {80: 8080},
               "shop/strict.shop.svc.cluster.local": {80: 8080}, "shop/plain.shop.svc.cluster.local": {80: 8080}}}
            - {name: same-region, namespace: shop, serviceAccount: web, node: node-c, workloadIps: ["127.138.2.2"],
               locality: {region: r1, zone: z2}, services: {"shop/close.shop.svc.cluster.local": {80: 8080},
               "shop/strict.shop.svc.cluster.local": {80: 8080}, "shop/plain.shop.svc.cluster.local": {80: 8080}}}
            - {name: far, namespace: shop, serviceAccount: web, node: node-d, workloadIps: ["127.138.2.3"],
               locality: {region: r2, zone: z9}, services: {"shop/close.shop.svc.cluster.local": {80: 8080},
               "shop/strict.shop.svc.cluster.local": {80: 8080}, "shop/plain.shop.svc.cluster.local": {80: 8080}}}
            - {name: sick, namespace: shop, serviceAccount: web, node: node-b, workloadIps: ["127.138.2.4"],
               status: Unhealthy, services: {"shop/lenient.shop.svc.cluster.local": {80: 8080},
               "shop/plain.shop.svc.cluster.local": {80: 8080}}}
            - {name: dual, namespace: shop, serviceAccount: web, node: node-b, workloadIps: ["127.138.3.1", "fd00::3:1"],
               services: {"shop/dual.shop.svc.cluster.local": {80: 8080}, "shop/six.shop.svc.cluster.local": {80: 8080}}}
            services:
            - {name: dual, namespace: shop, hostname: dual.shop.svc.cluster.local, vips: ["/127.138.9.6", "/fd00::9:6"],
               ports: {80: 8080}}
            - {name: six, namespace: shop, hostname: six.shop.svc.cluster.local, vips: ["/127.138.9.7"], ports: {80: 8080},
               ipFamilies: IPv6Only}
            - name: close
              namespace: shop
              hostname: close.shop.svc.cluster.local
              vips: ["/127.138.9.1"]
              ports: {80: 8080}
              loadBalancer: {mode: Failover, routingPreferences: [Network, Region, Zone, Subzone]}
            - name: strict
              namespace: shop
              hostname: strict.shop.svc.cluster.local
              vips: ["/127.138.9.2"]
              ports: {80: 8080}
              loadBalancer: {mode: Strict, routingPreferences: [Region, Zone]}
            - {name: plain, namespace: shop, hostname: plain.shop.svc.cluster.local, vips: ["/127.138.9.3"], ports: {80: 8080}}
            - name: lenient
              namespace: shop
              hostname: lenient.shop.svc.cluster.local
              vips: ["/127.138.9.4"]
              ports: {80: 8080}
              loadBalancer: {healthPolicy: AllowAll}
            - name: passthrough
              namespace: shop
              hostname: passthrough.shop.svc.cluster.local
              vips: ["/127.138.9.5"]
              ports: {80: 8080}
              loadBalancer: {mode: Passthrough}
            """;

    @Test
    void failoverKeepsTheClosestEndpointsAndFallsBackInOrder() throws Exception {
        var state = parse(MESH);
        assertThat(chosen(state, "client", "127.138.9.1")).containsExactly("near");

        var nearDown = parse(MESH.replace(
                "name: near, namespace: shop, serviceAccount: web, node: node-b, workloadIps:",
                "name: near, namespace: shop, serviceAccount: web, node: node-b, status: Unhealthy, workloadIps:"));
        assertThat(chosen(nearDown, "client", "127.138.9.1"))
                .as("the zone is gone: the same region next")
                .containsExactly("same-region");
        assertThat(chosen(state, "loner", "127.138.9.1"))
                .as("nothing shares the region: every endpoint on the network")
                .containsExactly("far", "near", "same-region");
    }

    @Test
    void strictOnlyTakesEndpointsThatShareEveryPreference() throws Exception {
        var state = parse(MESH);
        assertThat(chosen(state, "client", "127.138.9.2")).containsExactly("near");
        var refused = router(new AtomicInteger()).route(state, workload(state, "loner"), ip("127.138.9.2"), 80);
        assertThat(refused).isInstanceOf(Route.Refused.class);
        assertThat(((Route.Refused) refused).reason()).contains("STRICT");
    }

    @Test
    void withoutPreferencesEveryHealthyEndpointIsACandidate() throws Exception {
        var state = parse(MESH);
        assertThat(chosen(state, "client", "127.138.9.3")).containsExactly("far", "near", "same-region");
    }

    @Test
    void allowAllTakesUnhealthyEndpoints() throws Exception {
        var state = parse(MESH);
        assertThat(chosen(state, "client", "127.138.9.4")).containsExactly("sick");
        var strictHealth = parse(MESH.replace("  loadBalancer: {healthPolicy: AllowAll}\n", ""));
        assertThat(router(new AtomicInteger())
                        .route(strictHealth, workload(strictHealth, "client"), ip("127.138.9.4"), 80))
                .isInstanceOf(Route.Refused.class);
    }

    @Test
    void passthroughGoesToTheAddressTheClientDialed() throws Exception {
        var state = parse(MESH);
        var route = router(new AtomicInteger()).route(state, workload(state, "client"), ip("127.138.9.5"), 80);
        assertThat(route).isInstanceOf(Route.Direct.class);
        assertThat(((Route.Direct) route).target().getAddress().getHostAddress())
                .isEqualTo("127.138.9.5");
        assertThat(((Route.Direct) route).target().getPort()).isEqualTo(80);
    }

    @Test
    void aDualStackEndpointIsDialedInTheFamilyOfTheAddressDialedOrTheOneTheServiceAllows() throws Exception {
        var state = parse(MESH);
        var router = router(new AtomicInteger());
        var client = workload(state, "client");
        assertThat(target(router.route(state, client, ip("127.138.9.6"), 80))).isEqualTo("127.138.3.1");
        assertThat(target(router.route(state, client, ip("fd00::9:6"), 80))).isEqualTo("fd00:0:0:0:0:0:3:1");
        assertThat(target(router.route(state, client, ip("127.138.9.7"), 80)))
                .as("IPv6Only: the IPv6 address even for an IPv4 VIP")
                .isEqualTo("fd00:0:0:0:0:0:3:1");
    }

    private static String target(Route route) {
        assertThat(route).isInstanceOf(Route.Hbone.class);
        return ((Route.Hbone) route).target().getAddress().getHostAddress();
    }

    /** Every endpoint the router picks for the VIP over 60 connections with a cycling random source. */
    private static Set<String> chosen(MeshState state, String source, String vip) {
        var counter = new AtomicInteger();
        var router = router(counter);
        var names = new TreeSet<String>();
        for (int i = 0; i < 60; i++) {
            var route = router.route(state, workload(state, source), ip(vip), 80);
            assertThat(route).as("route to " + vip + " from " + source).isInstanceOf(Route.Hbone.class);
            names.add(((Route.Hbone) route).workload());
        }
        return names;
    }

    private static OutboundRouter router(AtomicInteger counter) {
        return new OutboundRouter(15008, bound -> Math.floorMod(counter.getAndIncrement(), bound));
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

    private static MeshState parse(String text) throws Exception {
        return LocalMeshFile.parse(text, "lb.yaml");
    }
}
