package io.ambit.waypoint.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.policy.engine.PeerIdentity;
import io.ambit.policy.match.IpAddress;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.ingress.Peer;
import io.ambit.waypoint.ingress.Target;
import io.ambit.waypoint.route.Endpoint;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Requests are counted under their own labels when a thread's consecutive requests share most of them: the meters
 * of the previous request are reused only when every label input matches (client, endpoint, service, status, gRPC
 * status, flags, protocol), whichever order the outcomes come in.
 */
class RequestMetricsSameLabelsTest {
    private static final SpiffeId SLEEP = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/sleep");
    private static final SpiffeId OTHER = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/other");
    private static final Workload CLIENT =
            Workload.builder("c1//Pod/shop/sleep-1", "sleep-1", "shop").build();
    private static final Workload WEB = Workload.builder("c1//Pod/shop/web-1", "web-1", "shop")
            .serviceAccount("web")
            .build();
    private static final Service SERVICE = Service.builder("web", "shop", "web.shop.svc.cluster.local")
            .vips(List.of(NetworkAddress.parse("/10.96.0.10")))
            .ports(List.of(new Port(80, 8080)))
            .build();
    private static final Target TARGET = new Target(SERVICE, NetworkAddress.parse("/10.96.0.10"), 80, 8080, null);
    private static final Endpoint ENDPOINT = new Endpoint(
            WEB, new InetSocketAddress("10.0.0.2", 8080), new InetSocketAddress("10.0.0.2", 15008), Set.of());

    @Test
    void eachRequestCountsUnderItsOwnLabels() {
        var registry = new SimpleMeterRegistry();
        var metrics = new RequestMetrics(registry, "");

        metrics.completed(record(peer(SLEEP), 200, null, ResponseFlag.NONE, false));
        metrics.completed(record(peer(SLEEP), 200, null, ResponseFlag.NONE, false));
        metrics.completed(record(peer(SLEEP), 503, null, ResponseFlag.UPSTREAM_CONNECTION_FAILURE, false));
        metrics.completed(record(peer(SLEEP), 200, null, ResponseFlag.NONE, false)); // back to the first set
        metrics.completed(record(peer(SLEEP), 200, "0", ResponseFlag.NONE, true)); // gRPC: other labels
        metrics.completed(record(peer(SLEEP), 200, "14", ResponseFlag.NONE, true));
        metrics.completed(record(peer(OTHER), 200, null, ResponseFlag.NONE, false)); // another client
        metrics.completed(record(peer(SLEEP), 200, null, ResponseFlag.NONE, false)); // an equal peer, new object

        assertThat(count(registry, SLEEP, "200", "unknown", "-")).isEqualTo(4);
        assertThat(count(registry, SLEEP, "503", "unknown", "UF")).isEqualTo(1);
        assertThat(count(registry, SLEEP, "200", "0", "-")).isEqualTo(1);
        assertThat(count(registry, SLEEP, "200", "14", "-")).isEqualTo(1);
        assertThat(count(registry, OTHER, "200", "unknown", "-")).isEqualTo(1);
        assertThat(registry.find("istio_requests").counters()).hasSize(5);
    }

    @Test
    void aNewEndpointOrServiceObjectIsNotMistakenForTheLastOne() {
        var registry = new SimpleMeterRegistry();
        var metrics = new RequestMetrics(registry, "");
        Workload other = Workload.builder("c1//Pod/shop/web-2", "web-2", "shop")
                .serviceAccount("web")
                .build();
        Endpoint second = new Endpoint(
                other, new InetSocketAddress("10.0.0.3", 8080), new InetSocketAddress("10.0.0.3", 15008), Set.of());

        metrics.completed(record(peer(SLEEP), 200, null, ResponseFlag.NONE, false));
        metrics.completed(new RequestRecord(
                Instant.now(),
                1_000_000,
                "HTTP/1.1",
                false,
                "GET",
                "web.shop",
                "/",
                200,
                null,
                ResponseFlag.NONE,
                0,
                10,
                peer(SLEEP),
                TARGET,
                second,
                null,
                null,
                null,
                null));

        assertThat(registry.find("istio_requests")
                        .tag("destination_workload", "web-1")
                        .counter()
                        .count())
                .isEqualTo(1);
        assertThat(registry.find("istio_requests")
                        .tag("destination_workload", "web-2")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    private static Peer peer(SpiffeId id) {
        return new Peer(id, PeerIdentity.of(id.principal()), IpAddress.parse("10.0.0.1"), CLIENT);
    }

    private static RequestRecord record(Peer peer, int status, String grpcStatus, ResponseFlag flag, boolean grpc) {
        return new RequestRecord(
                Instant.now(),
                1_000_000,
                "HTTP/2",
                grpc,
                "GET",
                "web.shop",
                "/",
                status,
                grpcStatus,
                flag,
                0,
                10,
                peer,
                TARGET,
                ENDPOINT,
                null,
                null,
                null,
                null);
    }

    private static double count(
            SimpleMeterRegistry registry, SpiffeId source, String code, String grpcStatus, String flags) {
        var counter = registry.find("istio_requests")
                .tag("source_principal", source.toString())
                .tag("response_code", code)
                .tag("grpc_response_status", grpcStatus)
                .tag("response_flags", flags)
                .counter();
        return counter == null ? 0 : counter.count();
    }
}
