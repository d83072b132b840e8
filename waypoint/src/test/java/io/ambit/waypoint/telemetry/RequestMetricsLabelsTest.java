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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The workload labels of Istio's request metrics at a waypoint: {@code source_workload} and
 * {@code destination_workload} are the owner's name (the Deployment's, which Istio's waypoint takes from
 * workload discovery's {@code workload_name}), not the pod's; Istio's dashboards and Kiali group by them.
 */
class RequestMetricsLabelsTest {
    @Test
    void workloadLabelsAreTheOwnersNameNotThePods() {
        var registry = new SimpleMeterRegistry();
        var metrics = new RequestMetrics(registry, "");
        SpiffeId sleepId = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/sleep");
        Workload sleep = Workload.builder("c1//Pod/shop/sleep-5c7b-x1", "sleep-5c7b-x1", "shop")
                .workloadName("sleep")
                .build();
        Workload web = Workload.builder("c1//Pod/shop/web-7d9f-abcde", "web-7d9f-abcde", "shop")
                .workloadName("web")
                .serviceAccount("web")
                .build();
        var service = Service.builder("web", "shop", "web.shop.svc.cluster.local")
                .vips(List.of(NetworkAddress.parse("/10.96.0.10")))
                .ports(List.of(new Port(80, 8080)))
                .build();
        var record = new RequestRecord(
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
                new Peer(sleepId, PeerIdentity.of(sleepId.principal()), IpAddress.parse("10.0.0.1"), sleep),
                new Target(service, NetworkAddress.parse("/10.96.0.10"), 80, 8080, null),
                new Endpoint(
                        web,
                        new InetSocketAddress("10.0.0.2", 8080),
                        new InetSocketAddress("10.0.0.2", 15008),
                        Set.of(web.identity())),
                null,
                null,
                null,
                null);

        metrics.completed(record);

        var counter = registry.find("istio_requests").counter();
        assertThat(counter).isNotNull();
        Map<String, String> tags = new HashMap<>();
        counter.getId().getTags().forEach(t -> tags.put(t.getKey(), t.getValue()));
        assertThat(tags)
                .containsEntry("reporter", "waypoint")
                .containsEntry("source_workload", "sleep")
                .containsEntry("destination_workload", "web")
                .containsEntry("destination_service", "web.shop.svc.cluster.local");
    }
}
