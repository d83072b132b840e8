package io.ambit.cli.waypoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Cluster mode's settings from the pod's environment, as the shipped Deployment sets it, and the errors for
 * what is missing or wrong: each names the variable and what was expected. And the bug this mode fixes:
 * {@code ambit waypoint} without FILE no longer fails with picocli's "Missing required parameter".
 */
class ClusterSettingsTest {
    @TempDir
    static Path dir;

    static Map<String, String> pod() throws Exception {
        Path root = dir.resolve("root-cert.pem");
        Files.writeString(root, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
        var env = new HashMap<String, String>();
        env.put("XDS_ADDRESS", "https://istiod.istio-system.svc:15012");
        env.put("XDS_ROOT_CA", root.toString());
        env.put("CLUSTER_ID", "Kubernetes");
        env.put("GATEWAY_NAME", "shop-waypoint");
        env.put("POD_NAME", "shop-waypoint-7d9f");
        env.put("POD_NAMESPACE", "shop");
        env.put("SERVICE_ACCOUNT", "shop-waypoint");
        env.put("INSTANCE_IP", "10.1.2.3");
        return env;
    }

    @Test
    void theDeploymentsEnvironmentGivesTheWaypointItsIdentityAndSources() throws Exception {
        var s = ClusterSettings.resolve(ClusterSettings.Flags.NONE, pod());
        assertThat(s.identity()).hasToString("spiffe://cluster.local/ns/shop/sa/shop-waypoint");
        assertThat(s.serviceHostname()).isEqualTo("shop-waypoint.shop.svc.cluster.local");
        assertThat(s.xds().address()).hasToString("https://istiod.istio-system.svc:15012");
        assertThat(s.ca().address())
                .as("CA_ADDRESS defaults to the xDS address")
                .isEqualTo(s.xds().address());
        assertThat(s.bind().getHostAddress()).isEqualTo("10.1.2.3");
        assertThat(s.meshConfigNamespace() + "/" + s.meshConfigName()).isEqualTo("istio-system/istio");
        assertThat(s.kubeApi()).as("in-cluster: from KUBERNETES_SERVICE_HOST").isNull();
        var env = pod();
        env.put("XDS_ADDRESS", "istiod.istio-system.svc:15012"); // as Istio's charts write it
        assertThat(ClusterSettings.resolve(ClusterSettings.Flags.NONE, env)
                        .xds()
                        .address())
                .hasToString("https://istiod.istio-system.svc:15012");
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                Arguments.of("GATEWAY_NAME", null, "no Gateway name (expected: --gateway or GATEWAY_NAME"),
                Arguments.of("POD_NAMESPACE", null, "no namespace (expected: --namespace or POD_NAMESPACE"),
                Arguments.of("INSTANCE_IP", "pod-ip", "INSTANCE_IP/--instance-ip \"pod-ip\" (expected: an IP address)"),
                Arguments.of(
                        "XDS_ADDRESS",
                        "http://istiod:15010",
                        "XDS_ADDRESS \"http://istiod:15010\" (expected: https://host:port"),
                Arguments.of("CA_ROOT_CA", "/nope/ca.pem", "CA_ROOT_CA /nope/ca.pem cannot be read"),
                Arguments.of("XDS_ROOT_CA", "/nope/root-cert.pem", "XDS_ROOT_CA /nope/root-cert.pem cannot be read"),
                Arguments.of("MESH_CONFIGMAP", "istio", "MESH_CONFIGMAP \"istio\" (expected: namespace/name"),
                Arguments.of("SERVICE_ACCOUNT", "a/b", "TRUST_DOMAIN/POD_NAMESPACE/SERVICE_ACCOUNT"),
                Arguments.of("AUTH_TOKEN", "/nope/istio-token", "AUTH_TOKEN /nope/istio-token cannot be read"));
    }

    @ParameterizedTest(name = "{0}={1} is refused naming it")
    @MethodSource("mistakes")
    void aMissingOrWrongVariableIsRefusedNamingIt(String variable, String value, String message) throws Exception {
        var env = pod();
        if (value == null) {
            env.remove(variable);
        } else {
            env.put(variable, value);
        }
        assertThatThrownBy(() -> ClusterSettings.resolve(ClusterSettings.Flags.NONE, env))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void withoutFileTheCommandRunsInClusterModeAndSaysWhatIsMissing() {
        var err = new StringWriter();
        var cl = new CommandLine(new WaypointCommand());
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        // this JVM is no pod: no GATEWAY_NAME, no istiod root certificate
        int code = cl.execute("--root-cert", dir.resolve("missing.pem").toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString())
                .doesNotContain("Missing required parameter")
                .contains("ambit waypoint: --root-cert")
                .contains("cannot be read (expected: istiod's root-cert.pem");
    }

    @Test
    void aFileAndAnXdsAddressTogetherAreRefused() {
        var err = new StringWriter();
        var cl = new CommandLine(new WaypointCommand());
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("--xds-address", "https://istiod.istio-system.svc:15012", "mesh.yaml");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("FILE and --xds-address both given");
    }

    @Test
    void helpExplainsClusterMode() {
        var out = new StringWriter();
        var cl = new CommandLine(new WaypointCommand());
        cl.setOut(new PrintWriter(out, true));
        assertThat(cl.execute("--help")).isZero();
        assertThat(out.toString())
                .contains("GATEWAY_NAME")
                .contains("--xds-address")
                .contains("--kube-api")
                .contains("fails closed");
    }
}
