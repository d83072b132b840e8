package io.ambit.waypoint.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.RawHttp;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Routing when an endpoint cannot be reached: a third httpbin endpoint (.23) exists in the mesh but
 * nothing listens on its node. Idempotent requests that land on it are retried once on another endpoint;
 * a POST is not retried and gets 503 with flag UF; unhealthy endpoints are never picked.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class RoutingTest {
    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;

    static String withEndpoint(String net, String status) {
        return WaypointFixture.meshYaml(net).replace("services:\n- name: httpbin\n", """
                - name: httpbin-3
                  namespace: default
                  serviceAccount: httpbin
                  workloadIps: ["NET.23"]
                  status: STATUS
                  services: {"default/httpbin.default.svc.cluster.local": {8000: 8080}}
                services:
                - name: httpbin
                """.replace("NET", net)
                        .replace("STATUS", status))
                + "---\n" + Policies.BASIC;
    }

    @BeforeAll
    static void start() throws Exception {
        mesh = WaypointFixture.start(8, "");
        mesh.mesh.set(withEndpoint(mesh.net, "Healthy"));
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void idempotentRequestsAreRetriedOnAnotherEndpoint() throws Exception {
        for (int i = 0; i < 6; i++) {
            var r = RawHttp.send(asSleep, "GET /get?r=" + i + " HTTP/1.1\r\nHost: httpbin\r\n\r\n", 1000);
            assertThat(r.statuses()).as("request %d: %s", i, r.response()).containsExactly(200);
        }
    }

    @Test
    void aPostToTheDeadEndpointIsNotRetried() throws Exception {
        int failures = 0;
        for (int i = 0; i < 6; i++) {
            var r = RawHttp.send(asSleep, "POST /echo HTTP/1.1\r\nHost: httpbin\r\nContent-Length: 2\r\n\r\nhi", 1000);
            assertThat(r.statuses()).as(r.response()).hasSize(1);
            if (r.statuses().getFirst() == 503) {
                failures++;
                assertThat(r.response()).contains("upstream connect error or disconnect/reset before headers");
            } else {
                assertThat(r.statuses()).containsExactly(200);
            }
        }
        assertThat(failures)
                .as("round robin over three endpoints sends two of six POSTs to the dead one")
                .isEqualTo(2);
        assertThat(mesh.awaitLog(l -> l.contains("\"method\":\"POST\"") && l.contains("\"response_code\":503")))
                .contains("\"response_flags\":\"UF\"")
                .contains("\"upstream_host\":\"" + mesh.net + ".23:8080\"");
    }

    @Test
    void anUnhealthyEndpointIsNeverPicked() throws Exception {
        try {
            mesh.mesh.set(withEndpoint(mesh.net, "Unhealthy"));
            for (int i = 0; i < 6; i++) {
                var r = RawHttp.send(
                        asSleep, "POST /echo HTTP/1.1\r\nHost: httpbin\r\nContent-Length: 2\r\n\r\nhi", 1000);
                assertThat(r.statuses()).as(r.response()).containsExactly(200);
            }
        } finally {
            mesh.mesh.set(withEndpoint(mesh.net, "Healthy"));
        }
    }
}
