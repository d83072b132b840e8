package io.ambit.cli.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ambit authz check} for a waypoint in another namespace than the Service: {@code
 * destination.waypointNamespace} names the Gateway's namespace, where Gateway targetRefs attach.
 */
class CrossNamespaceWaypointCheckTest {
    @TempDir
    Path dir;

    private Path policies;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void writePolicies() throws Exception {
        policies = dir.resolve("p.yaml");
        Files.writeString(policies, """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: gw-deny, namespace: waypoints}
                spec:
                  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
                  action: DENY
                  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
                """);
    }

    private int check(String request) throws Exception {
        Path req = dir.resolve("r.json");
        Files.writeString(req, request);
        return Main.run(
                new PrintWriter(out),
                new PrintWriter(err),
                "authz",
                "check",
                "--policies",
                policies.toString(),
                "--request",
                req.toString());
    }

    @Test
    void aGatewayPolicyInTheWaypointsNamespaceAppliesToAnotherNamespacesService() throws Exception {
        assertThat(check("""
                        {"layer": "L7", "method": "GET", "path": "/admin",
                         "destination": {"namespace": "shop", "service": "cart",
                                         "waypoint": "waypoint", "waypointNamespace": "waypoints"}}
                        """)).isZero();
        assertThat(out.toString()).contains("\"decision\":\"DENY\"").contains("\"policy\":\"waypoints/gw-deny\"");
    }

    @Test
    void withoutTheWaypointsNamespaceTheGatewayIsTheServicesNamespaces() throws Exception {
        assertThat(check("""
                        {"layer": "L7", "method": "GET", "path": "/admin",
                         "destination": {"namespace": "shop", "service": "cart", "waypoint": "waypoint"}}
                        """)).isZero();
        assertThat(out.toString())
                .contains("\"decision\":\"ALLOW\"")
                .contains("\"policy\":null")
                .contains("shop/cart");
    }

    @Test
    void theExplanationNamesTheGatewayAsNamespaceAndName() throws Exception {
        assertThat(check("""
                        {"layer": "L7", "method": "GET", "path": "/public",
                         "destination": {"namespace": "shop", "service": "cart",
                                         "waypoint": "waypoint", "waypointNamespace": "waypoints"}}
                        """)).isZero();
        assertThat(out.toString()).contains("shop/cart (through Gateway waypoints/waypoint)");
    }

    @Test
    void aWaypointNamespaceWithoutAWaypointIsRefused() throws Exception {
        assertThat(check("""
                        {"layer": "L7", "method": "GET", "path": "/",
                         "destination": {"namespace": "shop", "service": "cart", "waypointNamespace": "waypoints"}}
                        """)).isEqualTo(2);
        assertThat(err.toString()).contains("destination.waypointNamespace").contains("destination.waypoint");
    }
}
