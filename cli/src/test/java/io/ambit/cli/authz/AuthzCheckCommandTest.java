package io.ambit.cli.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.cli.Main;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthzCheckCommandTest {
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
                metadata: {name: allow-sleep, namespace: foo}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  rules:
                  - from: [{source: {principals: ["cluster.local/ns/foo/sa/sleep"]}}]
                """);
    }

    private int run(String... args) {
        return Main.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void decidesOneRequestFromAFile() throws Exception {
        Path req = dir.resolve("r.json");
        Files.writeString(req, """
                {"layer": "L4",
                 "source": {"principal": "cluster.local/ns/foo/sa/sleep"},
                 "destination": {"namespace": "foo", "labels": {"app": "httpbin"}, "port": 8080}}
                """);
        assertThat(run("authz", "check", "--policies", policies.toString(), "--request", req.toString()))
                .isZero();
        assertThat(out.toString().strip())
                .isEqualTo("{\"decision\":\"ALLOW\",\"reason\":\"authz\",\"policy\":\"foo/allow-sleep\","
                        + "\"rule\":0,\"explanation\":\"allowed by ALLOW policy foo/allow-sleep, rule 0\"}");
    }

    @Test
    void decidesJsonLinesFromStdinInOrder() {
        String lines = """
                {"layer":"L4","source":{"principal":"cluster.local/ns/foo/sa/sleep"},"destination":{"namespace":"foo","labels":{"app":"httpbin"}}}
                {"layer":"L4","source":{"principal":"cluster.local/ns/foo/sa/other"},"destination":{"namespace":"foo","labels":{"app":"httpbin"}}}

                {"layer":"L4","destination":{"namespace":"bar","labels":{"app":"httpbin"}}}
                """;
        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream(lines.getBytes(StandardCharsets.UTF_8)));
            assertThat(run("authz", "check", "--policies", policies.toString(), "--requests", "-"))
                    .isZero();
        } finally {
            System.setIn(stdin);
        }
        var outLines = out.toString().lines().toList();
        assertThat(outLines).hasSize(3);
        assertThat(outLines.get(0)).contains("\"decision\":\"ALLOW\"");
        assertThat(outLines.get(1))
                .contains("\"decision\":\"DENY\"")
                .contains("no ALLOW policy matched; 1 applies to foo/httpbin");
        assertThat(outLines.get(2)).contains("\"decision\":\"ALLOW\"").contains("\"policy\":null");
    }

    @Test
    void badRequestLinesExitTwoNamingLineAndFieldAndKeepOutputAligned() throws Exception {
        Path req = dir.resolve("r.jsonl");
        Files.writeString(req, """
                {"layer":"L4","destination":{"namespace":"foo","port":"eighty"}}
                {"layer":"L4","destination":{"namespace":"foo"}}
                {not json
                """);
        assertThat(run("authz", "check", "--policies", policies.toString(), "--requests", req.toString()))
                .isEqualTo(2);
        var outLines = out.toString().lines().toList();
        assertThat(outLines).hasSize(3);
        assertThat(outLines.get(0)).startsWith("{\"error\":");
        assertThat(outLines.get(1)).contains("\"decision\":\"ALLOW\"");
        assertThat(err.toString()).contains(req + ":1: destination.port").contains(req + ":3: invalid JSON");
    }

    @Test
    void badPolicyFilesExitTwoWithFileLineAndField() throws Exception {
        Files.writeString(dir.resolve("bad.yaml"), """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: bad, namespace: foo}
                spec:
                  action: DENY
                """);
        Path req = dir.resolve("r.json");
        Files.writeString(req, "{\"layer\":\"L4\",\"destination\":{\"namespace\":\"foo\"}}");
        assertThat(run("authz", "check", "--policies", dir.toString(), "--request", req.toString()))
                .isEqualTo(2);
        assertThat(err.toString())
                .contains(dir.resolve("bad.yaml") + ":5: AuthorizationPolicy foo/bad: spec.rules: is missing");
    }

    @Test
    void unknownFlagsAndMissingInputsAreUsageErrors() {
        assertThat(run("authz", "check", "--policies", policies.toString(), "--requets", "x"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("--requets");
        assertThat(run("authz", "check", "--policies", policies.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--request");
    }

    @Test
    void aBadMeshFileIsRejected() throws Exception {
        Path mesh = dir.resolve("mesh.yaml");
        Files.writeString(mesh, "pathNormalization: SOMETIMES\n");
        assertThat(run(
                        "authz",
                        "check",
                        "--policies",
                        policies.toString(),
                        "--mesh",
                        mesh.toString(),
                        "--request",
                        "-"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("mesh.yaml:1: pathNormalization");
    }

    @Test
    void helpListsTheSubcommands() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("authz");
        assertThat(run("authz", "check", "--help")).isZero();
        assertThat(out.toString()).contains("--policies").contains("--requests");
    }
}
