package io.ambit.waypoint.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.NamespacedHostname;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Which workloads of a mesh file run waypoints, and under which Gateway name. */
class WaypointDirectoryTest {

    @Test
    void theExampleDeclaresThePaymentWaypointByItsLabel() throws Exception {
        var mesh =
                LocalMeshFile.parse(Files.readString(Path.of("../examples/waypoint-mesh.yaml")), "waypoint-mesh.yaml");
        var found = WaypointDirectory.find(mesh);
        assertThat(found).hasSize(1);
        var wp = found.getFirst();
        assertThat(wp.self().gatewayName()).isEqualTo("payment-waypoint");
        assertThat(wp.self().namespace()).isEqualTo("fintech-core");
        assertThat(wp.self().identity().toString())
                .isEqualTo("spiffe://cluster.local/ns/fintech-core/sa/payment-waypoint");
        assertThat(wp.ip().getHostAddress()).isEqualTo("127.20.3.1");
        assertThat(WaypointDirectory.served(mesh).get("fintech-core/payment-waypoint"))
                .extracting(s -> s.name())
                .containsExactly("payment-processor");
        assertThat(mesh.workloads().stream().filter(w -> WaypointDirectory.isWaypoint(mesh, w)))
                .extracting(w -> w.name())
                .containsExactly("payment-waypoint");
    }

    @Test
    void aWaypointNamedByAServiceHostnameTakesThatServicesName() throws Exception {
        var mesh = LocalMeshFile.parse("""
                workloads:
                - name: wp-pod
                  namespace: shop
                  serviceAccount: wp
                  workloadIps: ["127.92.60.1"]
                  services: {"shop/shop-waypoint.shop.svc.cluster.local": {15008: 15008}}
                - {name: app, namespace: shop, serviceAccount: app, workloadIps: ["127.92.60.2"]}
                services:
                - {name: shop-waypoint, namespace: shop, hostname: shop-waypoint.shop.svc.cluster.local,
                   vips: ["/127.92.60.100"], ports: {15008: 15008}}
                - name: cart
                  namespace: shop
                  hostname: cart.shop.svc.cluster.local
                  vips: ["/127.92.60.101"]
                  ports: {80: 8080}
                  waypoint: {destination: {hostname: {namespace: shop, hostname: shop-waypoint.shop.svc.cluster.local}}}
                """, "t.yaml");
        var found = WaypointDirectory.find(mesh);
        assertThat(found).hasSize(1);
        assertThat(found.getFirst().self().gatewayName()).isEqualTo("shop-waypoint");
        assertThat(found.getFirst().self().service())
                .isEqualTo(new NamespacedHostname("shop", "shop-waypoint.shop.svc.cluster.local"));
        var cart = mesh.services().stream()
                .filter(s -> s.name().equals("cart"))
                .findFirst()
                .orElseThrow();
        assertThat(found.getFirst().self().is(cart.waypoint())).isTrue();
    }

    @Test
    void theQuickstartDeclaresItsPaymentsWaypoint() throws Exception {
        var mesh = LocalMeshFile.parse(
                Files.readString(Path.of("../examples/quickstart-mesh.yaml")), "quickstart-mesh.yaml");
        assertThat(WaypointDirectory.find(mesh))
                .singleElement()
                .satisfies(w -> assertThat(w.self().gatewayName()).isEqualTo("payments-waypoint"));
    }

    @Test
    void aMeshWithoutWaypointsDeclaresNone() throws Exception {
        var mesh = LocalMeshFile.parse("""
                workloads:
                - {name: sleep, namespace: default, serviceAccount: sleep, workloadIps: ["127.0.1.1"]}
                - name: httpbin
                  namespace: default
                  serviceAccount: httpbin
                  workloadIps: ["127.0.2.1"]
                  services: {"default/httpbin.default.svc.cluster.local": {8000: 8080}}
                services:
                - {name: httpbin, namespace: default, hostname: httpbin.default.svc.cluster.local, vips: ["/127.10.0.1"], ports: {8000: 8080}}
                """, "mesh.yaml");
        assertThat(WaypointDirectory.find(mesh)).isEmpty();
    }
}
