package io.ambit.cli.review;

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

/**
 * README "ambit authz check": exit 0 when every request was decided; 2 on bad input (invalid policy, bad
 * mesh file, bad request line), with {@code {"error": ...}} in a bad line's place on stdout.
 */
class AuthzCheckContractReviewTest {
    @TempDir
    Path dir;

    private Path policies;
    private StringWriter out;
    private StringWriter err;

    private static final String GET_ADMIN =
            "{\"destination\":{\"namespace\":\"foo\",\"service\":\"httpbin\"},\"method\":\"GET\",\"path\":\"/admin\"}";
    private static final String GET_X =
            "{\"destination\":{\"namespace\":\"foo\",\"service\":\"httpbin\"},\"method\":\"GET\",\"path\":\"/x\"}";

    @BeforeEach
    void writePolicies() throws Exception {
        out = new StringWriter();
        err = new StringWriter();
        policies = dir.resolve("p.yaml");
        Files.writeString(policies, """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-admin, namespace: foo}
                spec:
                  targetRefs: [{kind: Service, group: "", name: httpbin}]
                  action: DENY
                  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
                """);
    }

    private int run(String... args) {
        return Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    /**
     * {@code --request FILE} is "one JSON request". Jackson's readTree stops after the first value, so a file
     * holding two requests (a JSONL file passed to the wrong flag) or a request followed by junk is decided
     * from its first object and the rest silently dropped, exit 0. Expected: a bad-input error, exit 2
     * (DeserializationFeature.FAIL_ON_TRAILING_TOKENS).
     */
    @Test
    void aRequestFileWithTrailingContentIsBadInput() throws Exception {
        Path req = dir.resolve("two.json");
        Files.writeString(req, GET_X + "\n" + GET_ADMIN + "\n");
        assertThat(run("authz", "check", "--policies", policies.toString(), "--request", req.toString()))
                .as("stdout: %s stderr: %s", out, err)
                .isEqualTo(2);
    }

    /** Same in JSON Lines: {@code {...} junk} on one line is decided and the junk ignored, exit 0. */
    @Test
    void aJsonLineWithTrailingJunkIsABadLine() throws Exception {
        Path req = dir.resolve("r.jsonl");
        Files.writeString(req, GET_X + " {\"path\":\"/admin\"}\n" + GET_ADMIN + "\n");
        assertThat(run("authz", "check", "--policies", policies.toString(), "--requests", req.toString()))
                .as("stdout: %s stderr: %s", out, err)
                .isEqualTo(2);
        var lines = out.toString().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("{\"error\":");
        assertThat(lines.get(1)).contains("\"decision\":\"DENY\"");
    }

    /**
     * Only NoSuchFileException is handled; any other IOException (a directory, a permission problem)
     * escapes {@code call()} and picocli prints a stack trace and exits 1.
     */
    @Test
    void aRequestPathThatIsADirectoryIsBadInputExitTwo() {
        int code = run("authz", "check", "--policies", policies.toString(), "--request", dir.toString());
        assertThat(code).as("stderr: %s", err).isEqualTo(2);
        assertThat(err.toString()).doesNotContain("\tat ");
    }

    /**
     * Invalid UTF-8 in a requests file: MalformedInputException from the reader escapes {@code call()}, exit 1
     * with a stack trace, and no decision is printed for the valid lines. Expected: exit 2 naming the file
     * (and ideally the line), other lines still decided.
     */
    @Test
    void invalidUtf8InARequestsFileIsBadInputExitTwo() throws Exception {
        Path req = dir.resolve("bad.jsonl");
        byte[] good = (GET_X + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] bad = {(byte) 0xff, (byte) 0xfe, '\n'};
        byte[] good2 = (GET_ADMIN + "\n").getBytes(StandardCharsets.UTF_8);
        var all = new byte[good.length + bad.length + good2.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        System.arraycopy(good2, 0, all, good.length + bad.length, good2.length);
        Files.write(req, all);
        int code = run("authz", "check", "--policies", policies.toString(), "--requests", req.toString());
        assertThat(code).as("stderr: %s", err).isEqualTo(2);
        assertThat(err.toString()).doesNotContain("\tat ");
    }

    /**
     * A deeply nested policy file makes the YAML parser overflow the stack; the StackOverflowError is not
     * caught anywhere, so the whole run dies (no decisions, exit 1, JVM stack trace) instead of "the valid
     * rest still decides" with exit 2. Run in a thread with a normal 1 MB stack, like the CLI's main thread.
     */
    @Test
    void aDeeplyNestedPolicyFileIsAnInvalidPolicyNotACrash() throws Exception {
        Path deep = dir.resolve("deep.yaml");
        Files.writeString(deep, "a: " + "[".repeat(50_000) + "]".repeat(50_000) + "\n");
        Path req = dir.resolve("r.json");
        Files.writeString(req, GET_ADMIN);
        int[] code = {-1};
        Throwable[] thrown = {null};
        var t = new Thread(
                null,
                () -> {
                    try {
                        code[0] = run(
                                "authz",
                                "check",
                                "--policies",
                                policies.toString(),
                                "--policies",
                                deep.toString(),
                                "--request",
                                req.toString());
                    } catch (Throwable e) {
                        thrown[0] = e;
                    }
                },
                "cli",
                1 << 20);
        t.start();
        t.join();
        assertThat(thrown[0]).as("thrown out of Main.run").isNull();
        assertThat(code[0]).as("stderr: %s", err).isEqualTo(2);
        assertThat(out.toString()).contains("\"decision\":\"DENY\"");
    }

    /** Same for the mesh file: exit 2 with a message, not an Error. */
    @Test
    void aDeeplyNestedMeshFileIsABadMeshFileNotACrash() throws Exception {
        Path mesh = dir.resolve("mesh.yaml");
        Files.writeString(mesh, "rootNamespace: " + "[".repeat(50_000) + "]".repeat(50_000) + "\n");
        Path req = dir.resolve("r.json");
        Files.writeString(req, GET_ADMIN);
        int[] code = {-1};
        Throwable[] thrown = {null};
        var t = new Thread(
                null,
                () -> {
                    try {
                        code[0] = run(
                                "authz",
                                "check",
                                "--policies",
                                policies.toString(),
                                "--mesh",
                                mesh.toString(),
                                "--request",
                                req.toString());
                    } catch (Throwable e) {
                        thrown[0] = e;
                    }
                },
                "cli",
                1 << 20);
        t.start();
        t.join();
        assertThat(thrown[0]).as("thrown out of Main.run").isNull();
        assertThat(code[0]).as("stderr: %s", err).isEqualTo(2);
    }

    /** Pinned: output keys in the documented order, nulls written as null, audit/dryRun only when set. */
    @Test
    void outputKeysAndNullsAsDocumented() throws Exception {
        Path req = dir.resolve("r.jsonl");
        Files.writeString(req, GET_ADMIN + "\n" + GET_X + "\n");
        assertThat(run("authz", "check", "--policies", policies.toString(), "--requests", req.toString()))
                .isZero();
        assertThat(out.toString().lines().toList())
                .containsExactly(
                        "{\"decision\":\"DENY\",\"reason\":\"authz\",\"policy\":\"foo/deny-admin\",\"rule\":0,"
                                + "\"explanation\":\"denied by DENY policy foo/deny-admin, rule 0\"}",
                        "{\"decision\":\"ALLOW\",\"reason\":\"authz\",\"policy\":null,\"rule\":null,"
                                + "\"explanation\":\"allowed: no DENY policy matched and no ALLOW policy applies to "
                                + "foo/httpbin\"}");
    }

    /** Pinned: {@code --request -} reads one request from stdin. */
    @Test
    void aSingleRequestFromStdin() {
        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream(GET_ADMIN.getBytes(StandardCharsets.UTF_8)));
            assertThat(run("authz", "check", "--policies", policies.toString(), "--request", "-"))
                    .isZero();
        } finally {
            System.setIn(stdin);
        }
        assertThat(out.toString()).contains("\"decision\":\"DENY\"");
    }

    /**
     * Judgment call. README: "Without layer, a request with HTTP fields is L7, else L4"; §5 lists
     * {@code sni} with method/host/path/headers as the L7 request fields, and ztunnel treats connection.sni
     * as HTTP-only. RequestReader does not count {@code sni} (nor {@code "jwtInvalid": false}), so a request
     * carrying only sni is decided at L4, where every connection.sni rule is dropped/stripped.
     */
    @Test
    void aRequestWithOnlySniIsDecidedAtL7() throws Exception {
        Files.writeString(policies, """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-sni, namespace: foo}
                spec:
                  targetRefs: [{kind: Service, group: "", name: httpbin}]
                  action: DENY
                  rules: [{when: [{key: connection.sni, values: ["evil.example"]}]}]
                """);
        Path req = dir.resolve("r.json");
        Files.writeString(
                req,
                "{\"destination\":{\"namespace\":\"foo\",\"labels\":{\"app\":\"httpbin\"},\"service\":\"httpbin\"},"
                        + "\"sni\":\"evil.example\"}");
        assertThat(run("authz", "check", "--policies", policies.toString(), "--request", req.toString()))
                .isZero();
        assertThat(out.toString()).contains("\"decision\":\"DENY\"");
    }
}
