package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.Layer.L4;
import static io.ambit.policy.semantics.Fixture.Layer.L7;
import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.attached;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.custom;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.header;
import static io.ambit.policy.semantics.Fixture.headers;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.request;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.semantics.Fixture.Expect;
import io.ambit.policy.semantics.Fixture.Layer;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.3: how rules, sources, operations, conditions and value lists combine. */
class RuleStructureTest {
    private static final Expect YES = allowedBy("foo/p", 0);
    private static final Expect NO = deniedNoAllowMatched();
    private static final String JWT = waypointRequestAuth("jwt", "jwtRules: [{issuer: https://issuer.example.com}]\n");

    /** An ALLOW policy {@code foo/p} at the waypoint with the given rules. */
    private static String allow(String rules) {
        return waypointPolicy("p", "rules:\n" + rules);
    }

    @ParameterizedTest
    @MethodSource
    void rulesCombine(String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml).decideL7(request), expected);
    }

    static Stream<Arguments> rulesCombine() {
        String fullRule = """
                - from: [{source: {principals: ["cluster.local/ns/foo/sa/sleep"]}}]
                  to: [{operation: {methods: [GET]}}]
                  when: [{key: "request.headers[x-a]", values: ["1"]}]
                """;
        return Stream.of(
                argumentSet(
                        "rules are ORed: the second rule allows what the first does not",
                        allow("- to: [{operation: {paths: [/a]}}]\n- to: [{operation: {paths: [/b]}}]\n"),
                        l7("GET", "/b").build(),
                        allowedBy("foo/p", 1)),
                argumentSet(
                        "a rule matches when from, to and when all match",
                        allow(fullRule),
                        l7().headers(header("x-a", "1")).build(),
                        YES),
                argumentSet("a rule fails when its when condition fails", allow(fullRule), l7().build(), NO),
                argumentSet(
                        "a rule fails when its from part fails",
                        allow(fullRule),
                        l7().peer("cluster.local/ns/bar/sa/curl")
                                .headers(header("x-a", "1"))
                                .build(),
                        NO),
                argumentSet(
                        "a rule fails when its to part fails",
                        allow(fullRule),
                        l7("POST", "/").headers(header("x-a", "1")).build(),
                        NO),
                argumentSet(
                        "an absent from matches any source, even plaintext",
                        allow("- to: [{operation: {methods: [GET]}}]\n"),
                        l7().peer(null).build(),
                        YES),
                argumentSet(
                        "an absent to matches any operation",
                        allow("- from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"]}}]\n"),
                        l7("DELETE", "/anything").build(),
                        YES),
                argumentSet(
                        "sources are ORed",
                        allow("- from: [{source: {principals: [\"cluster.local/ns/bar/sa/curl\"]}},"
                                + " {source: {principals: [\"cluster.local/ns/foo/sa/sleep\"]}}]\n"),
                        l7().build(),
                        YES),
                argumentSet(
                        "operations are ORed",
                        allow("- to: [{operation: {methods: [POST]}}, {operation: {paths: [/x]}}]\n"),
                        l7("GET", "/x").build(),
                        YES),
                argumentSet(
                        "conditions are ANDed: one failing condition fails the rule",
                        allow("- when: [{key: \"request.headers[x-a]\", values: [\"1\"]},"
                                + " {key: \"request.headers[x-b]\", values: [\"2\"]}]\n"),
                        l7().headers(header("x-a", "1")).build(),
                        NO),
                argumentSet(
                        "conditions are ANDed: all holding matches",
                        allow("- when: [{key: \"request.headers[x-a]\", values: [\"1\"]},"
                                + " {key: \"request.headers[x-b]\", values: [\"2\"]}]\n"),
                        l7().headers(headers("x-a", "1", "x-b", "2")).build(),
                        YES),
                argumentSet(
                        "set fields inside one source are ANDed",
                        allow("- from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"],"
                                + " ipBlocks: [10.9.9.9]}}]\n"),
                        l7().build(),
                        NO),
                argumentSet(
                        "set fields inside one operation are ANDed",
                        allow("- to: [{operation: {methods: [GET], paths: [/x]}}]\n"),
                        l7("GET", "/y").build(),
                        NO),
                argumentSet(
                        "unset fields of a source are ignored",
                        allow("- from: [{source: {ipBlocks: [10.0.0.0/8]}}]\n"),
                        l7().peer(null).build(),
                        YES),
                argumentSet(
                        "any value of a list matches",
                        allow("- to: [{operation: {methods: [PUT, GET]}}]\n"),
                        l7("GET", "/").build(),
                        YES),
                argumentSet(
                        "a not-field matches when no listed value matches",
                        allow("- to: [{operation: {notMethods: [POST, PUT]}}]\n"),
                        l7("GET", "/").build(),
                        YES),
                argumentSet(
                        "a not-field fails when a listed value matches",
                        allow("- to: [{operation: {notMethods: [POST, PUT]}}]\n"),
                        l7("PUT", "/").build(),
                        NO),
                argumentSet(
                        "values and notValues together: a positive match and no negative match passes",
                        allow(
                                "- when: [{key: \"request.headers[x-env]\", values: [\"prod-*\"], notValues: [prod-eu]}]\n"),
                        l7().headers(header("x-env", "prod-us")).build(),
                        YES),
                argumentSet(
                        "values and notValues together: a negative match fails despite the positive one",
                        allow(
                                "- when: [{key: \"request.headers[x-env]\", values: [\"prod-*\"], notValues: [prod-eu]}]\n"),
                        l7().headers(header("x-env", "prod-eu")).build(),
                        NO),
                argumentSet(
                        "values and notValues together: no positive match fails",
                        allow(
                                "- when: [{key: \"request.headers[x-env]\", values: [\"prod-*\"], notValues: [prod-eu]}]\n"),
                        l7().headers(header("x-env", "dev")).build(),
                        NO),
                argumentSet(
                        "a positive principal match fails without peer identity",
                        allow("- from: [{source: {principals: [\"*\"]}}]\n"),
                        l7().peer(null).build(),
                        NO),
                argumentSet(
                        "notPrincipals matches a plaintext request",
                        allow("- from: [{source: {notPrincipals: [\"cluster.local/ns/bar/sa/curl\"]}}]\n"),
                        l7().peer(null).build(),
                        YES),
                argumentSet(
                        "notNamespaces matches a plaintext request",
                        allow("- from: [{source: {notNamespaces: [bar]}}]\n"),
                        l7().peer(null).build(),
                        YES),
                argumentSet(
                        "notServiceAccounts matches a plaintext request",
                        allow("- from: [{source: {notServiceAccounts: [bar/curl]}}]\n"),
                        l7().peer(null).build(),
                        YES),
                argumentSet(
                        "requestPrincipals fails without a token",
                        docs(JWT, allow("- from: [{source: {requestPrincipals: [\"*\"]}}]\n")),
                        l7().build(),
                        NO),
                argumentSet(
                        "notRequestPrincipals matches a token-less request",
                        docs(
                                JWT,
                                allow(
                                        "- from: [{source: {notRequestPrincipals: [\"https://issuer.example.com/bob\"]}}]\n")),
                        l7().build(),
                        YES),
                argumentSet(
                        "a header condition fails when the header is absent",
                        allow("- when: [{key: \"request.headers[x-a]\", values: [\"*\"]}]\n"),
                        l7().build(),
                        NO),
                argumentSet(
                        "notValues matches when the header is absent",
                        allow("- when: [{key: \"request.headers[x-a]\", notValues: [\"1\"]}]\n"),
                        l7().build(),
                        YES),
                argumentSet(
                        "a claim condition fails when the claim is absent",
                        docs(JWT, allow("- when: [{key: \"request.auth.claims[groups]\", values: [admin]}]\n")),
                        l7().token(jwt("https://issuer.example.com", "alice")).build(),
                        NO),
                argumentSet(
                        "notValues on a claim matches when the claim is absent",
                        docs(JWT, allow("- when: [{key: \"request.auth.claims[groups]\", notValues: [banned]}]\n")),
                        l7().token(jwt("https://issuer.example.com", "alice", Map.of("sub", "alice")))
                                .build(),
                        YES),
                argumentSet(
                        "notValues on a claim matches when there is no token at all",
                        docs(JWT, allow("- when: [{key: \"request.auth.claims[groups]\", notValues: [banned]}]\n")),
                        l7().build(),
                        YES));
    }

    @ParameterizedTest
    @MethodSource
    void missingIdentityAtZtunnel(String spec, Expect expected) {
        check(snapshot(Fixture.policy("p", spec)).decideL4(l4().peer(null).build()), expected);
    }

    static Stream<Arguments> missingIdentityAtZtunnel() {
        return Stream.of(
                argumentSet(
                        "at ztunnel principals fail for a plaintext connection",
                        "rules: [{from: [{source: {principals: [\"*\"]}}]}]\n",
                        NO),
                argumentSet(
                        "at ztunnel notPrincipals match a plaintext connection",
                        "rules: [{from: [{source: {notPrincipals: [\"cluster.local/ns/bar/sa/curl\"]}}]}]\n",
                        YES),
                argumentSet(
                        "at ztunnel notNamespaces match a plaintext connection",
                        "rules: [{from: [{source: {notNamespaces: [bar]}}]}]\n",
                        YES),
                argumentSet(
                        "at ztunnel notServiceAccounts match a plaintext connection",
                        "rules: [{from: [{source: {notServiceAccounts: [bar/curl]}}]}]\n",
                        YES),
                argumentSet(
                        "at ztunnel a source.principal notValues condition matches a plaintext connection",
                        "rules: [{when: [{key: source.principal, notValues: [\"cluster.local/ns/bar/sa/curl\"]}]}]\n",
                        YES));
    }

    /** The empty-shape table of §2.3, at both layers. */
    @ParameterizedTest
    @MethodSource
    void emptyShapes(Layer layer, String yaml, Expect expected) {
        check(snapshot(yaml), layer, request(layer).build(), expected);
    }

    static Stream<Arguments> emptyShapes() {
        var out = Stream.<Arguments>builder();
        for (Layer layer : Layer.values()) {
            out.add(argumentSet(
                    "an empty spec (apart from the attachment) at " + layer + " is allow-nothing",
                    layer,
                    attached(layer, "p", layer == L4 ? "{}" : ""),
                    NO));
            out.add(argumentSet(
                    "action ALLOW without rules at " + layer + " is allow-nothing",
                    layer,
                    attached(layer, "p", "action: ALLOW\n"),
                    NO));
            out.add(argumentSet(
                    "an allow-nothing policy at " + layer + " is overridden by another matching ALLOW policy",
                    layer,
                    docs(attached(layer, "p", "action: ALLOW\n"), attached(layer, "q", "rules: [{}]\n")),
                    allowedBy("foo/q", 0)));
            out.add(argumentSet(
                    "rules: [{}] with ALLOW at " + layer + " is allow-all",
                    layer,
                    attached(layer, "p", "rules: [{}]\n"),
                    YES));
            out.add(argumentSet(
                    "rules: [{}] with DENY at " + layer + " is deny-all and wins over any allow",
                    layer,
                    docs(attached(layer, "d", "action: DENY\nrules: [{}]\n"), attached(layer, "p", "rules: [{}]\n")),
                    deniedBy("foo/d", 0)));
            out.add(argumentSet(
                    "AUDIT without rules at " + layer + " is valid and has no effect",
                    layer,
                    attached(layer, "a", "action: AUDIT\n"),
                    allowedNoAllowPolicy()));
        }
        out.add(argumentSet(
                "rules: [{}] with CUSTOM sends every request to the provider",
                L7,
                attached(L7, "c", "action: CUSTOM\nprovider: {name: ext-authz}\nrules: [{}]\n"),
                custom("ext-authz", "foo/c", 0)));
        return out.build();
    }
}
