package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.Layer.L4;
import static io.ambit.policy.semantics.Fixture.Layer.L7;
import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.attached;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Token;
import io.ambit.policy.semantics.Fixture.Expect;
import io.ambit.policy.semantics.Fixture.Layer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.6 (operation fields) and §2.6a (requestPrincipals split at the last slash). */
class OperationFieldsTest {
    private static final Expect YES = allowedBy("foo/p", 0);
    private static final Expect NO = deniedNoAllowMatched();

    @ParameterizedTest
    @MethodSource
    void operationFields(Layer layer, String operation, AccessRequest request, boolean matches) {
        var yaml = attached(layer, "p", "rules: [{to: [{operation: " + operation + "}]}]\n");
        check(snapshot(yaml), layer, request, matches ? YES : NO);
    }

    private static AccessRequest host(String host) {
        return l7().http("GET", host, "/").build();
    }

    static Stream<Arguments> operationFields() {
        return Stream.of(
                argumentSet(
                        "hosts match the Host header as sent", L7, "{hosts: [example.com]}", host("example.com"), true),
                argumentSet(
                        "an exact host does not match a Host header that carries a port",
                        L7,
                        "{hosts: [example.com]}",
                        host("example.com:8080"),
                        false),
                argumentSet(
                        "hosts with a \"host:*\" entry match the Host header with a port",
                        L7,
                        "{hosts: [example.com, \"example.com:*\"]}",
                        host("example.com:8080"),
                        true),
                argumentSet(
                        "hosts with a \"host:*\" entry still match the bare host",
                        L7,
                        "{hosts: [example.com, \"example.com:*\"]}",
                        host("example.com"),
                        true),
                argumentSet(
                        "hosts compare case-insensitively", L7, "{hosts: [Example.COM]}", host("example.com"), true),
                argumentSet(
                        "notHosts exclude the Host header as sent",
                        L7,
                        "{notHosts: [example.com]}",
                        host("example.com"),
                        false),
                argumentSet(
                        "notHosts with a bare host admit the same host with a port",
                        L7,
                        "{notHosts: [example.com]}",
                        host("example.com:8080"),
                        true),
                argumentSet(
                        "methods match the HTTP method",
                        L7,
                        "{methods: [GET, HEAD]}",
                        l7("HEAD", "/").build(),
                        true),
                argumentSet(
                        "methods do not match another method",
                        L7,
                        "{methods: [GET]}",
                        l7("POST", "/").build(),
                        false),
                argumentSet(
                        "notMethods exclude the method",
                        L7,
                        "{notMethods: [DELETE]}",
                        l7("DELETE", "/").build(),
                        false),
                argumentSet(
                        "a gRPC call is a POST to /package.Service/Method",
                        L7,
                        "{methods: [POST], paths: [/pkg.Greeter/SayHello]}",
                        l7("POST", "/pkg.Greeter/SayHello").build(),
                        true),
                argumentSet(
                        "paths match the path without its query",
                        L7,
                        "{paths: [/info]}",
                        l7("GET", "/info?user=alice").build(),
                        true),
                argumentSet(
                        "paths match the normalized path",
                        L7,
                        "{paths: [/admin]}",
                        l7("GET", "/public/../admin").build(),
                        true),
                argumentSet(
                        "notPaths exclude the normalized path",
                        L7,
                        "{notPaths: [\"/admin*\"]}",
                        l7("GET", "/public/../admin").build(),
                        false),
                argumentSet(
                        "ports match the destination (workload) port", L4, "{ports: [\"8080\"]}", l4().build(), true),
                argumentSet(
                        "ports do not match another destination port",
                        L4,
                        "{ports: [\"8080\"]}",
                        l4().port(9090).build(),
                        false),
                argumentSet("notPorts exclude the destination port", L4, "{notPorts: [\"8080\"]}", l4().build(), false),
                argumentSet(
                        "notPorts admit another destination port",
                        L4,
                        "{notPorts: [\"8080\"]}",
                        l4().port(9090).build(),
                        true),
                argumentSet(
                        "hosts are HTTP-only: the ALLOW rule is dropped at ztunnel",
                        L4,
                        "{hosts: [\"*\"]}",
                        l4().build(),
                        false),
                argumentSet(
                        "methods are HTTP-only: the ALLOW rule is dropped at ztunnel",
                        L4,
                        "{methods: [GET], ports: [\"8080\"]}",
                        l4().build(),
                        false),
                argumentSet(
                        "paths are HTTP-only: the ALLOW rule is dropped at ztunnel",
                        L4,
                        "{paths: [\"*\"]}",
                        l4().build(),
                        false),
                argumentSet(
                        "notPaths are HTTP-only: the ALLOW rule is dropped at ztunnel",
                        L4,
                        "{notPaths: [/admin]}",
                        l4().build(),
                        false));
    }

    // §2.6a: the token's issuers must be known to the RequestAuthentication, or the token is rejected.
    private static final String ISSUERS = waypointRequestAuth("jwt", """
            jwtRules:
            - issuer: iss
            - issuer: https://issuer.example.com
            - issuer: https://accounts.example.com
            - issuer: abcdef
            - issuer: xyzsfx
            """);

    @ParameterizedTest
    @MethodSource
    void requestPrincipals(String pattern, Token token, boolean matches) {
        var yaml = docs(
                ISSUERS,
                waypointPolicy("p", "rules: [{from: [{source: {requestPrincipals: [\"" + pattern + "\"]}}]}]\n"));
        check(snapshot(yaml).decideL7(l7().token(token).build()), matches ? YES : NO);
    }

    private static Arguments principal(String name, String pattern, String iss, String sub, boolean matches) {
        return argumentSet(name, pattern, jwt(iss, sub), matches);
    }

    static Stream<Arguments> requestPrincipals() {
        return Stream.of(
                principal("\"*\" matches a non-empty issuer and subject", "*", "iss", "alice", true),
                principal("\"*\" does not match an empty subject", "*", "iss", "", false),
                principal("\"iss/sub\" matches issuer and subject exactly", "iss/alice", "iss", "alice", true),
                principal("\"iss/sub\" does not match another subject", "iss/alice", "iss", "alice2", false),
                principal(
                        "a URL issuer works because the pattern splits at the last slash",
                        "https://issuer.example.com/alice",
                        "https://issuer.example.com",
                        "alice",
                        true),
                principal("\"iss/*\" matches any non-empty subject", "iss/*", "iss", "bob", true),
                principal("\"iss/*\" does not match an empty subject", "iss/*", "iss", "", false),
                principal("\"iss/*\" needs the exact issuer", "iss/*", "abcdef", "bob", false),
                principal("\"iss/abc*\" is a prefix match on the subject", "iss/ali*", "iss", "alice", true),
                principal("\"iss/abc*\" does not match another subject", "iss/ali*", "iss", "bob", false),
                principal(
                        "\"*/sub\" matches any issuer with that subject",
                        "*/alice",
                        "https://issuer.example.com",
                        "alice",
                        true),
                principal("\"*/sub\" needs the exact subject", "*/alice", "iss", "bob", false),
                principal("\"*sfx/sub\" is a suffix match on the issuer", "*sfx/alice", "xyzsfx", "alice", true),
                principal("\"*sfx/sub\" does not match another issuer", "*sfx/alice", "iss", "alice", false),
                principal("\"abc*\" without slash is a prefix match on the issuer", "abc*", "abcdef", "bob", true),
                principal("\"abc*\" without slash does not match another issuer", "abc*", "iss", "abcbob", false),
                principal("\"*abc\" without slash is a suffix match on the subject", "*lice", "iss", "alice", true),
                principal("\"*abc\" without slash does not match another subject", "*lice", "iss", "bob", false),
                principal(
                        "\"https://accounts*\" is split into issuer https:/ and subject prefix accounts",
                        "https://accounts*",
                        "https://accounts.example.com",
                        "accounts-42",
                        false),
                principal(
                        "\"https://accounts*\" is not a prefix match on the whole iss/sub",
                        "https://accounts*",
                        "https://accounts.example.com",
                        "alice",
                        false),
                argumentSet("without a validated JWT there is no principal", "*", Token.NONE, false));
    }

    @ParameterizedTest
    @MethodSource
    void requestAuthPrincipalConditionSplitsTheSameWay(String values, Token token, boolean matches) {
        var yaml = docs(
                ISSUERS, waypointPolicy("p", "rules: [{when: [{key: request.auth.principal, " + values + "}]}]\n"));
        check(snapshot(yaml).decideL7(l7().token(token).build()), matches ? YES : NO);
    }

    static Stream<Arguments> requestAuthPrincipalConditionSplitsTheSameWay() {
        return Stream.of(
                argumentSet(
                        "request.auth.principal \"*/sub\" matches any issuer with that subject",
                        "values: [\"*/alice\"]",
                        jwt("https://issuer.example.com", "alice"),
                        true),
                argumentSet(
                        "request.auth.principal with a URL issuer splits at the last slash",
                        "values: [\"https://issuer.example.com/alice\"]",
                        jwt("https://issuer.example.com", "alice"),
                        true),
                argumentSet(
                        "request.auth.principal \"https://accounts*\" never matches a real token",
                        "values: [\"https://accounts*\"]",
                        jwt("https://accounts.example.com", "accounts-42"),
                        false),
                argumentSet(
                        "request.auth.principal notValues match when there is no token",
                        "notValues: [\"*\"]",
                        Token.NONE,
                        true));
    }
}
