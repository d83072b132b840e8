package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.Layer.L4;
import static io.ambit.policy.semantics.Fixture.Layer.L7;
import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.attached;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.header;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.semantics.Fixture.Expect;
import io.ambit.policy.semantics.Fixture.Layer;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.4: the generic string rule and its field-specific deviations. */
class ValueMatchingTest {
    private static final Expect YES = allowedBy("foo/p", 0);
    private static final Expect NO = deniedNoAllowMatched();
    private static final String JWT = waypointRequestAuth("jwt", "jwtRules: [{issuer: https://issuer.example.com}]\n");

    @ParameterizedTest
    @MethodSource
    void valuesMatch(Layer layer, String rule, AccessRequest request, boolean matches) {
        var yaml = docs(JWT, attached(layer, "p", "rules:\n" + rule));
        check(snapshot(yaml), layer, request, matches ? YES : NO);
    }

    private static Arguments l7Case(String name, String rule, AccessRequest request, boolean matches) {
        return argumentSet(name, L7, rule, request, matches);
    }

    private static Arguments l4Case(String name, String rule, AccessRequest request, boolean matches) {
        return argumentSet(name, L4, rule, request, matches);
    }

    private static String xv(String values) {
        return "- when: [{key: \"request.headers[x-v]\", values: " + values + "}]\n";
    }

    private static AccessRequest withXv(String... values) {
        return l7().headers(header("x-v", values)).build();
    }

    private static String principals(String values) {
        return "- from: [{source: {principals: " + values + "}}]\n";
    }

    private static String namespaces(String values) {
        return "- from: [{source: {namespaces: " + values + "}}]\n";
    }

    private static AccessRequest claims(Map<String, Object> claims) {
        return l7().token(jwt("https://issuer.example.com", "alice", claims)).build();
    }

    private static String claim(String name, String values) {
        return "- when: [{key: \"request.auth.claims[" + name + "]\", values: " + values + "}]\n";
    }

    static Stream<Arguments> valuesMatch() {
        return Stream.of(
                // the generic rule, on a header value
                l7Case("\"*\" matches any present, non-empty value", xv("[\"*\"]"), withXv("anything"), true),
                l7Case("a leading * is a suffix match (the rest alone)", xv("[\"*abc\"]"), withXv("abc"), true),
                l7Case("a leading * is a suffix match (longer value)", xv("[\"*abc\"]"), withXv("xabc"), true),
                l7Case("a suffix match does not match a prefix", xv("[\"*abc\"]"), withXv("abcx"), false),
                l7Case("a trailing * is a prefix match (the rest alone)", xv("[\"abc*\"]"), withXv("abc"), true),
                l7Case("a trailing * is a prefix match (longer value)", xv("[\"abc*\"]"), withXv("abcd"), true),
                l7Case("a prefix match does not match a suffix", xv("[\"abc*\"]"), withXv("xabc"), false),
                l7Case(
                        "\"*abc*\" is a suffix match on the literal abc*, not a contains match",
                        xv("[\"*abc*\"]"),
                        withXv("xabcx"),
                        false),
                l7Case(
                        "\"*abc*\" matches a value ending in the literal abc*",
                        xv("[\"*abc*\"]"),
                        withXv("xabc*"),
                        true),
                l7Case("an infix * is a literal character, not a glob", xv("[\"a*b\"]"), withXv("axb"), false),
                l7Case("an infix * matches itself literally", xv("[\"a*b\"]"), withXv("a*b"), true),
                l7Case("anything else is an exact match", xv("[abc]"), withXv("abcd"), false),
                l7Case("exact matches are case-sensitive", xv("[abc]"), withXv("ABC"), false),
                l7Case("prefix matches are case-sensitive", xv("[\"abc*\"]"), withXv("ABCD"), false),

                // principals
                l7Case("principals \"*\" matches any peer identity", principals("[\"*\"]"), l7().build(), true),
                l7Case(
                        "principals \"*\" does not match a plaintext request",
                        principals("[\"*\"]"),
                        l7().peer(null).build(),
                        false),
                l7Case(
                        "principals compare the identity without spiffe://",
                        principals("[\"cluster.local/ns/foo/sa/sleep\"]"),
                        l7().peer("spiffe://cluster.local/ns/foo/sa/sleep").build(),
                        true),
                l7Case(
                        "principals with a trailing * are a prefix match",
                        principals("[\"cluster.local/ns/foo/*\"]"),
                        l7().build(),
                        true),
                l7Case(
                        "principals with a leading * are a suffix match",
                        principals("[\"*/sa/sleep\"]"),
                        l7().build(),
                        true),
                l7Case(
                        "an infix * in principals is literal",
                        principals("[\"cluster.local/ns/*/sa/sleep\"]"),
                        l7().build(),
                        false),
                l7Case(
                        "principals are case-sensitive",
                        principals("[\"cluster.local/ns/foo/sa/Sleep\"]"),
                        l7().build(),
                        false),
                l4Case(
                        "at ztunnel principals with a trailing * are a prefix match",
                        principals("[\"cluster.local/ns/foo/*\"]"),
                        l4().build(),
                        true),
                l4Case(
                        "at ztunnel an infix * in principals is literal",
                        principals("[\"cluster.local/ns/*/sa/sleep\"]"),
                        l4().build(),
                        false),

                // hosts and header names are case-insensitive, methods are not
                l7Case(
                        "hosts compare case-insensitively",
                        "- to: [{operation: {hosts: [HTTPBIN.Foo.svc.cluster.local]}}]\n",
                        l7().build(),
                        true),
                l7Case(
                        "hosts prefix matches compare case-insensitively",
                        "- to: [{operation: {hosts: [\"HTTPBIN.*\"]}}]\n",
                        l7().build(),
                        true),
                l7Case(
                        "notHosts compare case-insensitively",
                        "- to: [{operation: {notHosts: [HTTPBIN.FOO.SVC.CLUSTER.LOCAL]}}]\n",
                        l7().build(),
                        false),
                l7Case(
                        "header names compare case-insensitively",
                        "- when: [{key: \"request.headers[X-Token]\", values: [abc]}]\n",
                        l7().headers(header("x-token", "abc")).build(),
                        true),
                l7Case(
                        "methods are case-sensitive",
                        "- to: [{operation: {methods: [get]}}]\n",
                        l7("GET", "/").build(),
                        false),

                // IP blocks
                l7Case(
                        "a single address in ipBlocks is a /32",
                        "- from: [{source: {ipBlocks: [10.0.0.1]}}]\n",
                        l7().build(),
                        true),
                l7Case(
                        "a single address in ipBlocks matches only itself",
                        "- from: [{source: {ipBlocks: [10.0.0.2]}}]\n",
                        l7().build(),
                        false),
                l7Case(
                        "ipBlocks are a containment test",
                        "- from: [{source: {ipBlocks: [10.0.0.0/24]}}]\n",
                        l7().build(),
                        true),
                l7Case(
                        "an address outside the block does not match",
                        "- from: [{source: {ipBlocks: [10.0.1.0/24]}}]\n",
                        l7().build(),
                        false),
                l7Case(
                        "an IPv4 address is never inside an IPv6 block",
                        "- from: [{source: {ipBlocks: [\"::/0\"]}}]\n",
                        l7().build(),
                        false),
                l7Case(
                        "an IPv6 address is inside its IPv6 block",
                        "- from: [{source: {ipBlocks: [\"2001:db8::/32\"]}}]\n",
                        l7().sourceIp("2001:db8::7").build(),
                        true),
                l4Case(
                        "at ztunnel an IPv4 address is never inside an IPv6 block",
                        "- from: [{source: {ipBlocks: [\"::/0\"]}}]\n",
                        l4().build(),
                        false),

                // ports
                l4Case(
                        "ports compare numerically with the destination port",
                        "- to: [{operation: {ports: [\"8080\"]}}]\n",
                        l4().build(),
                        true),
                l4Case(
                        "a port with a leading zero is still the same number",
                        "- to: [{operation: {ports: [\"08080\"]}}]\n",
                        l4().build(),
                        true),
                l4Case("another port does not match", "- to: [{operation: {ports: [\"80\"]}}]\n", l4().build(), false),

                // serviceAccounts
                l7Case(
                        "a bare service account means one in the policy's namespace",
                        "- from: [{source: {serviceAccounts: [sleep]}}]\n",
                        l7().build(),
                        true),
                l7Case(
                        "a bare service account does not match the same name in another namespace",
                        "- from: [{source: {serviceAccounts: [sleep]}}]\n",
                        l7().peer("cluster.local/ns/bar/sa/sleep").build(),
                        false),
                l7Case(
                        "a namespaced service account names its namespace explicitly",
                        "- from: [{source: {serviceAccounts: [bar/curl]}}]\n",
                        l7().peer("cluster.local/ns/bar/sa/curl").build(),
                        true),
                l4Case(
                        "at ztunnel a bare service account means one in the policy's namespace",
                        "- from: [{source: {serviceAccounts: [sleep]}}]\n",
                        l4().peer("cluster.local/ns/bar/sa/sleep").build(),
                        false),

                // namespaces: leading, trailing and lone * agree at both layers
                l7Case("namespaces with a trailing * are a prefix match", namespaces("[\"fo*\"]"), l7().build(), true),
                l7Case("namespaces with a leading * are a suffix match", namespaces("[\"*oo\"]"), l7().build(), true),
                l7Case("namespaces \"*\" matches any identity's namespace", namespaces("[\"*\"]"), l7().build(), true),
                l7Case(
                        "namespaces \"*\" does not match a plaintext request",
                        namespaces("[\"*\"]"),
                        l7().peer(null).build(),
                        false),
                l7Case("namespaces exact", namespaces("[foo]"), l7().build(), true),
                l7Case("namespaces exact does not match another namespace", namespaces("[fo]"), l7().build(), false),
                l4Case(
                        "at ztunnel namespaces with a trailing * are a prefix match",
                        namespaces("[\"fo*\"]"),
                        l4().build(),
                        true),
                l4Case(
                        "at ztunnel namespaces with a leading * are a suffix match",
                        namespaces("[\"*oo\"]"),
                        l4().build(),
                        true),
                l4Case("at ztunnel namespaces \"*\" matches any identity", namespaces("[\"*\"]"), l4().build(), true),
                l4Case(
                        "at ztunnel namespaces \"*\" does not match a plaintext connection",
                        namespaces("[\"*\"]"),
                        l4().peer(null).build(),
                        false),

                // headers
                l7Case("a header \"*\" means the header is present", xv("[\"*\"]"), withXv("1"), true),
                l7Case("a header \"*\" fails when the header is absent", xv("[\"*\"]"), l7().build(), false),
                l7Case(
                        "repeated headers are joined with a comma: the first value alone does not match",
                        xv("[foo]"),
                        withXv("foo", "bar"),
                        false),
                l7Case(
                        "repeated headers are joined with a comma: the second value alone does not match",
                        xv("[bar]"),
                        withXv("foo", "bar"),
                        false),
                l7Case("repeated headers are joined with a comma", xv("[\"foo,bar\"]"), withXv("foo", "bar"), true),
                l7Case(
                        "notValues compare the joined value of repeated headers",
                        "- when: [{key: \"request.headers[x-v]\", notValues: [foo]}]\n",
                        withXv("foo", "bar"),
                        true),

                // JWT claims
                l7Case(
                        "a string claim follows the generic rule",
                        claim("role", "[\"adm*\"]"),
                        claims(Map.of("role", "admin")),
                        true),
                l7Case(
                        "a list claim matches when any string element matches",
                        claim("groups", "[admin]"),
                        claims(Map.of("groups", List.of("users", "admin"))),
                        true),
                l7Case(
                        "a list claim does not match when no element matches",
                        claim("groups", "[admin]"),
                        claims(Map.of("groups", List.of("users", "ops"))),
                        false),
                l7Case(
                        "a number claim never matches a string value",
                        claim("level", "[\"5\"]"),
                        claims(Map.of("level", 5)),
                        false),
                l7Case(
                        "a boolean claim never matches a string value",
                        claim("admin", "[\"true\"]"),
                        claims(Map.of("admin", true)),
                        false),
                l7Case(
                        "an object claim never matches a string value",
                        claim("realm", "[\"*\"]"),
                        claims(Map.of("realm", Map.of("roles", "admin"))),
                        false));
    }

    @Test
    void aLowerCaseRequestMethodIsRejectedWith400() {
        var d = snapshot(waypointPolicy("p", "rules: [{}]\n"))
                .decideL7(l7("get", "/").build());
        check(d, denied(Reason.BAD_REQUEST));
        assertThat(d.httpStatus()).isEqualTo(400);
    }
}
