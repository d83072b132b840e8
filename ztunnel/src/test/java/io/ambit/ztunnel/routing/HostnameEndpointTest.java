package io.ambit.ztunnel.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.match.IpAddress;
import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.outbound.OutboundRouter;
import io.ambit.ztunnel.outbound.Route;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * ztunnel-reference.md §8: a service endpoint known by hostname only (a ServiceEntry with DNS resolution) is
 * resolved at connect time; once resolved it is dialed as any endpoint — in the dialed address's family when
 * it has both, in the service's when it allows one, plain TCP when it is outside the mesh, HBONE when in it.
 */
class HostnameEndpointTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system, trustDomain: cluster.local}
            workloads:
            - {name: client, namespace: shop, serviceAccount: client, workloadIps: ["127.151.1.1"]}
            - name: api-ext
              namespace: shop
              hostname: api.example.com
              protocol: TCP
              services: {"shop/api.example.com": {443: 8443}, "shop/six.example.com": {443: 8443}}
            - name: db-ext
              namespace: shop
              serviceAccount: db
              hostname: db.example.com
              services: {"shop/db.example.com": {5432: 5432}}
            services:
            - {name: api, namespace: shop, hostname: api.example.com, vips: ["/127.151.9.1", "/fd00::9:1"],
               ports: {443: 8443}}
            - {name: six, namespace: shop, hostname: six.example.com, vips: ["/127.151.9.2"], ports: {443: 8443},
               ipFamilies: IPv6Only}
            - {name: db, namespace: shop, hostname: db.example.com, vips: ["/127.151.9.3"], ports: {5432: 5432}}
            """;

    private final MeshState state = parse();
    private final OutboundRouter router = new OutboundRouter(15008, bound -> 0);

    @Test
    void anEndpointWithOnlyAHostnameIsResolvedAtConnectTime() {
        var route = router.route(state, client(), IpAddress.parse("127.151.9.1"), 443);
        assertThat(route).isInstanceOf(Route.Resolve.class);
        var pending = (Route.Resolve) route;
        assertThat(pending.hostname()).isEqualTo("api.example.com");
        assertThat(pending.port()).isEqualTo(8443);
        assertThat(pending.service()).isEqualTo("api.example.com");
    }

    @Test
    void outsideTheMeshTheResolvedAddressIsDialedInPlainTcpInTheDialedFamily() throws Exception {
        var answer = List.of(InetAddress.getByName("fd00::7"), InetAddress.getByName("127.151.7.7"));
        var v4 = router.resolved(
                (Route.Resolve) router.route(state, client(), IpAddress.parse("127.151.9.1"), 443), answer);
        assertThat(v4).isInstanceOf(Route.Direct.class);
        assertThat(((Route.Direct) v4).target()).isEqualTo(new java.net.InetSocketAddress("127.151.7.7", 8443));
        assertThat(((Route.Direct) v4).workload()).isEqualTo("api-ext");
        var v6 = router.resolved(
                (Route.Resolve) router.route(state, client(), IpAddress.parse("fd00::9:1"), 443), answer);
        assertThat(((Route.Direct) v6).target().getAddress()).isEqualTo(InetAddress.getByName("fd00::7"));
    }

    @Test
    void theServicesFamilyWinsAndNoAddressOfItRefuses() throws Exception {
        var pending = (Route.Resolve) router.route(state, client(), IpAddress.parse("127.151.9.2"), 443);
        var both = router.resolved(
                pending, List.of(InetAddress.getByName("127.151.7.7"), InetAddress.getByName("fd00::7")));
        assertThat(((Route.Direct) both).target().getAddress()).isEqualTo(InetAddress.getByName("fd00::7"));
        var v4Only = router.resolved(pending, List.of(InetAddress.getByName("127.151.7.7")));
        assertThat(v4Only).isInstanceOf(Route.Refused.class);
        assertThat(((Route.Refused) v4Only).reason())
                .contains("hostname api.example.com")
                .contains("none of the service's family (IPV6_ONLY)");
    }

    @Test
    void inTheMeshTheResolvedAddressIsReachedOverHbone() throws Exception {
        var pending = (Route.Resolve) router.route(state, client(), IpAddress.parse("127.151.9.3"), 5432);
        var route = router.resolved(pending, List.of(InetAddress.getByName("127.151.7.8")));
        assertThat(route).isInstanceOf(Route.Hbone.class);
        var hbone = (Route.Hbone) route;
        assertThat(hbone.hbone()).isEqualTo(new java.net.InetSocketAddress("127.151.7.8", 15008));
        assertThat(hbone.target()).isEqualTo(new java.net.InetSocketAddress("127.151.7.8", 5432));
        assertThat(hbone.identities()).extracting(Object::toString).contains("spiffe://cluster.local/ns/shop/sa/db");
    }

    @Test
    void aNameResolvingBackToZtunnelsOwnPortsIsRefused() throws Exception {
        var looping = parse(MESH.replace("{443: 8443}", "{443: 15001}"));
        var pending = (Route.Resolve) router.route(looping, client(looping), IpAddress.parse("127.151.9.1"), 443);
        var route = router.resolved(pending, List.of(InetAddress.getByName("127.0.0.1")));
        assertThat(route).isInstanceOf(Route.Refused.class);
        assertThat(((Route.Refused) route).reason()).contains("self-call to ztunnel port 15001");
    }

    @Test
    void aHostnameEndpointAmongAddressedOnesIsACandidateToo() {
        var counter = new AtomicInteger();
        var spread = new OutboundRouter(15008, bound -> Math.floorMod(counter.getAndIncrement(), bound));
        var mixed = parse(MESH.replace(
                "- {name: client,",
                "- {name: api-pod, namespace: shop, serviceAccount: api, workloadIps: [\"127.151.3.1\"],"
                        + " services: {\"shop/api.example.com\": {443: 8443}}}\n- {name: client,"));
        var kinds = new java.util.HashSet<Class<?>>();
        for (int i = 0; i < 10; i++) {
            kinds.add(spread.route(mixed, client(mixed), IpAddress.parse("127.151.9.1"), 443)
                    .getClass());
        }
        assertThat(kinds).containsExactlyInAnyOrder(Route.Resolve.class, Route.Hbone.class);
    }

    private Workload client() {
        return client(state);
    }

    private static Workload client(MeshState s) {
        return s.workloads().stream()
                .filter(w -> w.name().equals("client"))
                .findFirst()
                .orElseThrow();
    }

    private static MeshState parse() {
        return parse(MESH);
    }

    private static MeshState parse(String text) {
        try {
            return LocalMeshFile.parse(text, "hostnames.yaml");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
