package io.ambit.cli.ztunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ZtunnelSettingsTest {
    @TempDir
    Path dir;

    private Map<String, String> env(String... kv) throws Exception {
        var m = new HashMap<String, String>();
        Path root = dir.resolve("root-cert.pem");
        Files.writeString(root, "not read here");
        m.put("XDS_ROOT_CA", root.toString());
        m.put("CA_ROOT_CA", root.toString());
        m.put("NODE_NAME", "node-1");
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void ztunnelsEnvironmentConfiguresEverything() throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "t");
        var s = ZtunnelSettings.resolve(
                ZtunnelSettings.Flags.NONE,
                env(
                        "XDS_ADDRESS", "https://istiod.istio-system.svc:15012",
                        "CA_ADDRESS", "https://ca.example:15012",
                        "AUTH_TOKEN", token.toString(),
                        "CLUSTER_ID", "c1",
                        "ISTIO_META_CLUSTER_ID", "c2",
                        "POD_NAME", "ztunnel-abc",
                        "POD_NAMESPACE", "istio-system",
                        "INSTANCE_IP", "127.91.0.40",
                        "XDS_ON_DEMAND", "true",
                        "SECRET_TTL", "12h",
                        "ISTIO_META_FOO", "bar",
                        "XDS_HEADER_X_TENANT", "t1",
                        "ALT_XDS_HOSTNAME", "istiod.example"));
        assertThat(s.xds().address().toString()).isEqualTo("https://istiod.istio-system.svc:15012");
        assertThat(s.ca().address().toString()).isEqualTo("https://ca.example:15012");
        assertThat(s.xds().clusterId()).isEqualTo("c2"); // ISTIO_META_CLUSTER_ID wins, as in ztunnel
        assertThat(s.xds().tokenFile()).isEqualTo(token);
        assertThat(s.xds().onDemand()).isTrue();
        assertThat(s.xds().serverName()).isEqualTo("istiod.example");
        assertThat(s.xds().headers()).containsEntry("x-tenant", "t1");
        assertThat(s.certTtl()).isEqualTo(Duration.ofHours(12));
        assertThat(s.metadata()).containsEntry("FOO", "bar");
        assertThat(s.nodeName()).isEqualTo("node-1");
        assertThat(s.bind().getHostAddress()).isEqualTo("127.91.0.40");
    }

    @Test
    void flagsWinOverTheEnvironmentAndTheCaDefaultsToTheXdsAddress() throws Exception {
        var flags = new ZtunnelSettings.Flags(
                "https://127.91.0.1:15012",
                null,
                null,
                null,
                null,
                null,
                null,
                "node-2",
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        var s = ZtunnelSettings.resolve(flags, env("XDS_ADDRESS", "https://other:1"));
        assertThat(s.xds().address().toString()).isEqualTo("https://127.91.0.1:15012");
        assertThat(s.ca().address()).isEqualTo(s.xds().address());
        assertThat(s.nodeName()).isEqualTo("node-2");
        assertThat(s.xds().clusterId()).isEqualTo("Kubernetes");
        assertThat(s.bind().isLoopbackAddress()).isTrue();
    }

    @Test
    void aMeshFileMeansLocalModeWithTheEmbeddedCa() throws Exception {
        var flags = new ZtunnelSettings.Flags(
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                "node-a",
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                dir.resolve("mesh.yaml"),
                dir.resolve("ca"),
                null,
                null);
        var s = ZtunnelSettings.resolve(flags, Map.of());
        assertThat(s.xds()).isNull();
        assertThat(s.ca()).isNull();
        assertThat(s.caDir()).isEqualTo(dir.resolve("ca"));
    }

    static Stream<Arguments> bad() {
        return Stream.of(
                Arguments.of(
                        "XDS_ADDRESS",
                        "http://istiod:15012",
                        "XDS_ADDRESS \"http://istiod:15012\" (expected: https://host:port"),
                Arguments.of("XDS_ADDRESS", "", "XDS_ADDRESS is empty and no --mesh-file"),
                Arguments.of("NODE_NAME", "", "no node name (expected: --node or NODE_NAME"),
                Arguments.of("XDS_ON_DEMAND", "yes", "XDS_ON_DEMAND \"yes\" (expected: true or false)"),
                Arguments.of("AUTH_TOKEN", "/nonexistent/token", "AUTH_TOKEN /nonexistent/token cannot be read"),
                Arguments.of(
                        "XDS_ROOT_CA", "/nonexistent/root.pem", "XDS_ROOT_CA /nonexistent/root.pem cannot be read"),
                Arguments.of(
                        "INSTANCE_IP", "host.example", "INSTANCE_IP/--instance-ip \"host.example\" (expected: an IP"),
                Arguments.of("SECRET_TTL", "forever", "SECRET_TTL/--cert-ttl:"));
    }

    @ParameterizedTest(name = "{0}={1} is refused")
    @MethodSource("bad")
    void badValuesAreRefusedNamingTheVariable(String key, String value, String message) throws Exception {
        var e = env(key, value);
        assertThatThrownBy(() -> ZtunnelSettings.resolve(ZtunnelSettings.Flags.NONE, e))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void theCommandExitsWithTwoAndTheReasonOnBadInput() throws Exception {
        Path mesh = dir.resolve("bad.yaml");
        Files.writeString(mesh, "workloads:\n- {name: a, namespace: ns, bogus: 1}\n");
        var err = new StringWriter();
        int code = Main.run(
                new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true),
                "ztunnel",
                "--mesh-file",
                mesh.toString(),
                "--node",
                "node-a",
                "--ca-dir",
                dir.resolve("ca").toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).startsWith("ambit ztunnel: ").contains("bogus");

        var err2 = new StringWriter();
        int code2 = Main.run(
                new PrintWriter(new StringWriter(), true), new PrintWriter(err2, true), "ztunnel", "--ports", "1,2");
        assertThat(code2).isEqualTo(2);
        assertThat(err2.toString()).contains("--ports has 2 values (expected: 6");

        var err3 = new StringWriter();
        int code3 = Main.run(
                new PrintWriter(new StringWriter(), true),
                new PrintWriter(err3, true),
                "ztunnel",
                "--ports",
                "15008,70000,15020,15021,15000,15006");
        assertThat(code3).isEqualTo(2);
        assertThat(err3.toString()).contains("--ports socks is 70000 (expected: 0 to 65535");
    }

    @Test
    void helpNamesZtunnelsVariables() {
        var out = new StringWriter();
        assertThat(Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "ztunnel", "--help"))
                .isZero();
        assertThat(out.toString())
                .contains("XDS_ADDRESS")
                .contains("CA_ADDRESS")
                .contains("NODE_NAME")
                .contains("AUTH_TOKEN")
                .contains("--mesh-file");
    }
}
