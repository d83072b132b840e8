package io.ambit.policy.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.crd.Action;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyLoaderTest {
    private static final String HEAD = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: p
              namespace: foo
            spec:
            """;

    private static LoadResult load(String yaml) {
        return new PolicyLoader(false).text(yaml, "test.yaml").result();
    }

    @Test
    void loadsEveryKindOfBothVersionsAndSkipsOthers() {
        var r = load("""
                apiVersion: security.istio.io/v1beta1
                kind: AuthorizationPolicy
                metadata: {name: a, namespace: foo}
                spec: {}
                ---
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: b, namespace: foo}
                spec: {mtls: {mode: STRICT}}
                ---
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: c, namespace: foo}
                spec:
                  jwtRules: [{issuer: "https://issuer.example"}]
                ---
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: g}
                ---
                apiVersion: v1
                kind: List
                items:
                - apiVersion: security.istio.io/v1
                  kind: AuthorizationPolicy
                  metadata: {name: d, namespace: bar}
                  spec: {action: DENY, rules: [{}]}
                """);
        assertThat(r.errors()).isEmpty();
        assertThat(r.policies().authorizationPolicies())
                .extracting(p -> p.meta().ref())
                .containsExactly("foo/a", "bar/d");
        assertThat(r.policies().authorizationPolicies().get(1).action()).isEqualTo(Action.DENY);
        assertThat(r.policies().peerAuthentications()).hasSize(1);
        assertThat(r.policies().requestAuthentications()).hasSize(1);
        assertThat(r.skipped()).isEqualTo(1);
    }

    @Test
    void anInvalidObjectIsRejectedWithFileLineObjectAndFieldWhileTheValidRestLoads() {
        var r = load("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: good, namespace: foo}
                spec: {action: ALLOW, rules: [{}]}
                ---
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: bad, namespace: foo}
                spec:
                  rules:
                  - to:
                    - operation:
                        ports: ["8080", "80a"]
                """);
        assertThat(r.policies().authorizationPolicies())
                .extracting(p -> p.meta().name())
                .containsExactly("good");
        assertThat(r.errors()).hasSize(1);
        var e = r.errors().getFirst();
        assertThat(e.file()).isEqualTo("test.yaml");
        assertThat(e.line()).isEqualTo(13);
        assertThat(e.object()).isEqualTo("AuthorizationPolicy foo/bad");
        assertThat(e.field()).isEqualTo("spec.rules[0].to[0].operation.ports[1]");
        assertThat(e.message()).contains("\"80a\"").contains("expected: a decimal integer 0..65535");
        assertThat(e.toString())
                .startsWith("test.yaml:13: AuthorizationPolicy foo/bad: spec.rules[0].to[0].operation.ports[1]: ");
    }

    static Stream<Arguments> invalidSpecs() {
        return Stream.of(
                argumentSet(
                        "selector together with targetRefs",
                        "selector: {matchLabels: {app: a}}\n  targetRefs: [{kind: Service, name: s}]",
                        "spec.selector"),
                argumentSet("DENY without rules", "action: DENY", "spec.rules"),
                argumentSet("CUSTOM without a provider", "action: CUSTOM\n  rules: [{}]", "spec.provider.name"),
                argumentSet("a provider with ALLOW", "provider: {name: x}\n  rules: [{}]", "spec.provider"),
                argumentSet("an empty from list", "rules: [{from: []}]", "spec.rules[0].from"),
                argumentSet("an empty to list", "rules: [{to: []}]", "spec.rules[0].to"),
                argumentSet("a from entry without source", "rules: [{from: [{}]}]", "spec.rules[0].from[0].source"),
                argumentSet("an empty operation", "rules: [{to: [{operation: {}}]}]", "spec.rules[0].to[0].operation"),
                argumentSet(
                        "an empty string in a value list",
                        "rules: [{from: [{source: {principals: [\"\"]}}]}]",
                        "spec.rules[0].from[0].source.principals[0]"),
                argumentSet(
                        "serviceAccounts with principals",
                        "rules: [{from: [{source: {serviceAccounts: [a], principals: [b]}}]}]",
                        "spec.rules[0].from[0].source.principals"),
                argumentSet(
                        "a service account with a wildcard",
                        "rules: [{from: [{source: {serviceAccounts: [\"ns/*\"]}}]}]",
                        "spec.rules[0].from[0].source.serviceAccounts[0]"),
                argumentSet(
                        "a service account with two slashes",
                        "rules: [{from: [{source: {serviceAccounts: [\"a/b/c\"]}}]}]",
                        "spec.rules[0].from[0].source.serviceAccounts[0]"),
                argumentSet(
                        "an invalid CIDR",
                        "rules: [{from: [{source: {ipBlocks: [\"10.0.0.0/33\"]}}]}]",
                        "spec.rules[0].from[0].source.ipBlocks[0]"),
                argumentSet(
                        "a port above 65535",
                        "rules: [{to: [{operation: {ports: [\"65536\"]}}]}]",
                        "spec.rules[0].to[0].operation.ports[0]"),
                argumentSet("a when without values", "rules: [{when: [{key: source.ip}]}]", "spec.rules[0].when[0]"),
                argumentSet(
                        "an unknown when key",
                        "rules: [{when: [{key: request.foo, values: [a]}]}]",
                        "spec.rules[0].when[0].key"),
                argumentSet(
                        "destination.namespace as a when key",
                        "rules: [{when: [{key: destination.namespace, values: [a]}]}]",
                        "spec.rules[0].when[0].key"),
                argumentSet(
                        "a malformed header key",
                        "rules: [{when: [{key: \"request.headers[x\", values: [a]}]}]",
                        "spec.rules[0].when[0].key"),
                argumentSet(
                        "a {** } template that is not last",
                        "rules: [{to: [{operation: {paths: [\"/a/{**}/b/{*}\"]}}]}]",
                        "spec.rules[0].to[0].operation.paths[0]"),
                argumentSet(
                        "identity fields in a CUSTOM rule",
                        "action: CUSTOM\n  provider: {name: x}\n  rules: [{from: [{source: {principals: [a]}}]}]",
                        "spec.rules[0].from[0].source.principals"),
                argumentSet(
                        "a misspelt field",
                        "rules: [{from: [{source: {principal: [a]}}]}]",
                        "spec.rules[0].from[0].source.principal"),
                argumentSet("an unknown action", "action: PERMIT", "spec.action"),
                argumentSet(
                        "an extended condition while extended conditions are off",
                        "rules: [{when: [{key: custom.time_of_day, values: [\"08:00-18:00\"]}]}]",
                        "spec.rules[0].when[0].key"),
                argumentSet(
                        "a numeric comparison while extended conditions are off",
                        "rules: [{when: [{key: \"request.headers[amount]\", notValues: [\">100\"]}]}]",
                        "spec.rules[0].when[0].notValues[0]"));
    }

    @ParameterizedTest
    @MethodSource("invalidSpecs")
    void rejects(String spec, String field) {
        var r = load(HEAD + "  " + spec + "\n");
        assertThat(r.policies().authorizationPolicies()).isEmpty();
        assertThat(r.errors()).extracting(LoadError::field).contains(field);
        assertThat(r.errors()).allSatisfy(e -> assertThat(e.message()).contains("expected"));
    }

    static Stream<Arguments> validSpecs() {
        return Stream.of(
                argumentSet("an empty spec (allow nothing)", "{}"),
                argumentSet("ALLOW without rules", "action: ALLOW"),
                argumentSet("AUDIT without rules", "action: AUDIT"),
                argumentSet("a DENY matching everything", "action: DENY\n  rules: [{}]"),
                argumentSet(
                        "a Gateway targetRef",
                        "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: w}]"),
                argumentSet("the deprecated singular targetRef", "targetRef: {kind: Service, group: \"\", name: s}"),
                argumentSet(
                        "a header key with brackets",
                        "rules: [{when: [{key: \"request.headers[x-token]\", values: [\"*\"]}]}]"),
                argumentSet(
                        "a nested claim key", "rules: [{when: [{key: \"request.auth.claims[a][b]\", values: [x]}]}]"),
                argumentSet("ports written as YAML integers", "rules: [{to: [{operation: {ports: [8080]}}]}]"),
                argumentSet("a valid template", "rules: [{to: [{operation: {paths: [\"/a/{*}/b/{**}\"]}}]}]"));
    }

    @ParameterizedTest
    @MethodSource("validSpecs")
    void accepts(String spec) {
        var r = load(HEAD + "  " + spec + "\n");
        assertThat(r.errors()).isEmpty();
        assertThat(r.policies().authorizationPolicies()).hasSize(1);
    }

    @Test
    void extendedConditionsAreAcceptedWithTheAnnotationOrTheMeshSwitch() {
        String body = """
                spec:
                  action: DENY
                  rules: [{when: [{key: "request.headers[amount]", values: [">100000"]}]}]
                """;
        String plain =
                "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\n";
        String annotated =
                "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: p\n  namespace: foo\n"
                        + "  annotations: {ambit.io/extended-conditions: \"true\"}\n";
        assertThat(load(plain + body).errors()).hasSize(1);
        assertThat(load(annotated + body).errors()).isEmpty();
        assertThat(new PolicyLoader(true).text(plain + body, "x").result().errors())
                .isEmpty();
        assertThat(load(plain + body).errors().getFirst().message()).contains("extendedConditions: true");
    }

    @Test
    void aYamlSyntaxErrorNamesTheLine() {
        var r = load("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: [\n");
        assertThat(r.errors()).hasSize(1);
        assertThat(r.errors().getFirst().message()).startsWith("invalid YAML");
        assertThat(r.errors().getFirst().line()).isPositive();
    }

    @Test
    void aDuplicateObjectIsReportedAndTheFirstKept() {
        String doc = HEAD + "  action: ALLOW\n";
        var r = load(doc + "---\n" + doc);
        assertThat(r.policies().authorizationPolicies()).hasSize(1);
        assertThat(r.errors()).singleElement().satisfies(e -> assertThat(e.message())
                .contains("defined twice"));
    }

    @Test
    void missingNameAndDefaultNamespace() {
        var r = load(
                "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: foo}\nspec: {}\n"
                        + "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x}\nspec: {}\n");
        assertThat(r.errors()).singleElement().satisfies(e -> assertThat(e.field())
                .isEqualTo("metadata.name"));
        assertThat(r.policies().authorizationPolicies())
                .singleElement()
                .satisfies(p -> assertThat(p.meta().namespace()).isEqualTo("default"));
    }

    @Test
    void peerAuthenticationValidation() {
        var r = load("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: ns-wide, namespace: foo}
                spec:
                  mtls: {mode: STRICT}
                  portLevelMtls: {8080: {mode: PERMISSIVE}}
                ---
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: bad-mode, namespace: foo}
                spec:
                  selector: {matchLabels: {app: a}}
                  mtls: {mode: STRICTEST}
                  portLevelMtls: {0: {mode: PERMISSIVE}}
                """);
        assertThat(r.policies().peerAuthentications()).isEmpty();
        assertThat(r.errors())
                .extracting(LoadError::field)
                .containsExactlyInAnyOrder("spec.portLevelMtls", "spec.mtls.mode", "spec.portLevelMtls.0");
    }

    @Test
    void requestAuthenticationNeedsAnIssuer() {
        var r = load("""
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: foo}
                spec:
                  jwtRules: [{jwksUri: "not a url"}]
                """);
        assertThat(r.errors())
                .extracting(LoadError::field)
                .contains("spec.jwtRules[0].issuer", "spec.jwtRules[0].jwksUri");
    }

    @Test
    void directoriesAreReadRecursivelyAndMissingPathsReported(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("a/b"));
        Files.writeString(dir.resolve("a/b/one.yaml"), HEAD + "  action: ALLOW\n");
        Files.writeString(dir.resolve("a/two.yml"), HEAD.replace("name: p", "name: q"));
        Files.writeString(dir.resolve("a/notes.txt"), "not yaml: [");
        var r = new PolicyLoader(false)
                .paths(List.of(dir, dir.resolve("missing.yaml")))
                .result();
        assertThat(r.policies().authorizationPolicies()).hasSize(2);
        assertThat(r.errors()).singleElement().satisfies(e -> assertThat(e.message())
                .contains("no such file"));
    }
}
