package io.ambit.waypoint.xns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.waypoint.WaypointConfig;
import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A waypoint in another namespace than the Service it serves ({@code istio.io/use-waypoint-namespace}): the
 * Gateway {@code waypoints/waypoint} serves {@code default/httpbin}. Policies attached to that Gateway live in
 * {@code waypoints} and must apply (a missed DENY would be fail-open); a same-named Gateway targetRef in the
 * Service's namespace names another Gateway and must not. Service targetRefs attach in the Service's
 * namespace. Real curl through the real waypoint.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class CrossNamespaceWaypointTest {
    private static final String GATEWAY =
            "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]";
    private static final String SERVICE = "targetRefs: [{kind: Service, group: \"\", name: httpbin}]";

    /** One DENY per (namespace, attachment), each for its own path prefix, so one mesh shows every case. */
    private static final String POLICIES = String.join(
            "---\n",
            deny("waypoints", "gw-deny", GATEWAY, "/via-waypoints-gateway/*"),
            deny("default", "gw-deny", GATEWAY, "/via-default-gateway/*"),
            deny("default", "svc-deny", SERVICE, "/via-default-service/*"),
            deny("waypoints", "svc-deny", SERVICE, "/via-waypoints-service/*"));

    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;

    private static String deny(String ns, String name, String targetRefs, String path) {
        return """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: NAME, namespace: NS}
                spec:
                  TARGETS
                  action: DENY
                  rules: [{to: [{operation: {paths: ["PATH"]}}]}]
                """.replace("NAME", name)
                .replace("NS", ns)
                .replace("TARGETS", targetRefs)
                .replace("PATH", path);
    }

    /** The fixture's waypoint, moved to namespace {@code waypoints}; the mesh still points httpbin at it. */
    static WaypointConfig inWaypointsNamespace(WaypointConfig c) {
        var s = c.self();
        var self = new WaypointIdentity(s.gatewayName(), "waypoints", s.identity(), s.addresses(), s.service());
        return c.toBuilder().self(self).build();
    }

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("curl"), "curl is installed");
        mesh = WaypointFixture.start(57, POLICIES, CrossNamespaceWaypointTest::inWaypointsNamespace);
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    private static Processes.Result curl(String path) throws Exception {
        String via = asSleep.getAddress().getHostAddress() + ":" + asSleep.getPort();
        return Processes.run(
                List.of("curl", "-sS", "-m", "10", "-w", "\\n%{http_code}", "http://" + via + path),
                Duration.ofSeconds(30));
    }

    @Test
    void aDenyAttachedToTheWaypointsGatewayApplies() throws Exception {
        var r = curl("/via-waypoints-gateway/x");
        assertThat(r.out()).as(r.toString()).isEqualTo("RBAC: access denied\n403");
        String line = mesh.awaitLog(l -> l.contains("/via-waypoints-gateway/x"));
        assertThat(line).contains("\"response_code\":403").contains("waypoints/gw-deny");
    }

    @Test
    void aGatewayTargetRefInTheServicesNamespaceNamesAnotherGateway() throws Exception {
        var r = curl("/via-default-gateway/x");
        assertThat(r.out()).as(r.toString()).endsWith("\n200");
    }

    @Test
    void aServiceTargetRefAppliesInTheServicesNamespace() throws Exception {
        var r = curl("/via-default-service/x");
        assertThat(r.out()).as(r.toString()).isEqualTo("RBAC: access denied\n403");
        String line = mesh.awaitLog(l -> l.contains("/via-default-service/x"));
        assertThat(line).contains("default/svc-deny");
    }

    @Test
    void aServiceTargetRefInTheWaypointsNamespaceDoesNotReachTheService() throws Exception {
        var r = curl("/via-waypoints-service/x");
        assertThat(r.out()).as(r.toString()).endsWith("\n200");
    }
}
