package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.Layer.L4;
import static io.ambit.policy.semantics.Fixture.Layer.L7;
import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.attached;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.header;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.request;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Token;
import io.ambit.policy.semantics.Fixture.Expect;
import io.ambit.policy.semantics.Fixture.Layer;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * authz-semantics §2.7: what each {@code when} key reads, and that only source.ip, source.namespace,
 * source.principal, destination.ip and destination.port are enforced at ztunnel.
 */
class ConditionsTest {
    private static final Expect YES = allowedBy("foo/p", 0);
    private static final Expect NO = deniedNoAllowMatched();
    private static final String ISSUER = "https://issuer.example.com";
    private static final String JWT = waypointRequestAuth("jwt", "jwtRules: [{issuer: " + ISSUER + "}]\n");

    @ParameterizedTest
    @MethodSource
    void conditions(Layer layer, String condition, UnaryOperator<AccessRequest.Builder> request, boolean matches) {
        var yaml = docs(JWT, attached(layer, "p", "rules: [{when: [" + condition + "]}]\n"));
        check(snapshot(yaml), layer, request.apply(request(layer)).build(), matches ? YES : NO);
    }

    private static Arguments at(
            Layer layer, String name, String condition, UnaryOperator<AccessRequest.Builder> request, boolean matches) {
        return argumentSet(name, layer, condition, request, matches);
    }

    private static UnaryOperator<AccessRequest.Builder> token(
            List<String> audiences, String presenter, Map<String, Object> claims) {
        return b -> b.token(new Token.Verified(ISSUER, "alice", audiences, presenter, claims));
    }

    static Stream<Arguments> conditions() {
        UnaryOperator<AccessRequest.Builder> same = b -> b;
        UnaryOperator<AccessRequest.Builder> plaintext = b -> b.peer(null);
        UnaryOperator<AccessRequest.Builder> curl = b -> b.peer("cluster.local/ns/bar/sa/curl");
        UnaryOperator<AccessRequest.Builder> forwarded = b -> b.remoteIp("192.168.7.7");
        UnaryOperator<AccessRequest.Builder> alice = token(List.of("api"), "web-app", Map.of());
        return Stream.of(
                at(
                        L7,
                        "request.headers[name] matches a request header",
                        "{key: \"request.headers[x-token]\", values: [abc]}",
                        b -> b.headers(header("x-token", "abc")),
                        true),
                at(
                        L7,
                        "request.headers[name] does not match another value",
                        "{key: \"request.headers[x-token]\", values: [abc]}",
                        b -> b.headers(header("x-token", "xyz")),
                        false),
                at(
                        L4,
                        "request.headers is HTTP-only: the ALLOW rule is dropped at ztunnel",
                        "{key: \"request.headers[x-token]\", notValues: [abc]}",
                        same,
                        false),
                at(L7, "source.ip matches the direct peer IP", "{key: source.ip, values: [10.0.0.0/24]}", same, true),
                at(
                        L4,
                        "at ztunnel source.ip matches the direct peer IP",
                        "{key: source.ip, values: [10.0.0.1]}",
                        same,
                        true),
                at(
                        L4,
                        "at ztunnel source.ip does not match another IP",
                        "{key: source.ip, values: [10.0.9.0/24]}",
                        same,
                        false),
                at(
                        L4,
                        "at ztunnel source.ip notValues exclude the peer IP",
                        "{key: source.ip, notValues: [10.0.0.0/8]}",
                        same,
                        false),
                at(
                        L7,
                        "source.ip is the direct peer, not the forwarded client",
                        "{key: source.ip, values: [192.168.7.7]}",
                        forwarded,
                        false),
                at(
                        L7,
                        "remote.ip matches the forwarded client IP",
                        "{key: remote.ip, values: [192.168.7.0/24]}",
                        forwarded,
                        true),
                at(
                        L7,
                        "remote.ip does not match the direct peer when a client IP is forwarded",
                        "{key: remote.ip, values: [10.0.0.1]}",
                        forwarded,
                        false),
                at(
                        L7,
                        "remote.ip is the peer IP when nothing is forwarded",
                        "{key: remote.ip, values: [10.0.0.1]}",
                        same,
                        true),
                at(
                        L4,
                        "remote.ip is HTTP-only: the ALLOW rule is dropped at ztunnel",
                        "{key: remote.ip, values: [10.0.0.1]}",
                        same,
                        false),
                at(
                        L7,
                        "source.namespace matches the peer's namespace",
                        "{key: source.namespace, values: [bar]}",
                        curl,
                        true),
                at(
                        L4,
                        "at ztunnel source.namespace matches the peer's namespace",
                        "{key: source.namespace, values: [bar]}",
                        curl,
                        true),
                at(
                        L4,
                        "at ztunnel source.namespace does not match another namespace",
                        "{key: source.namespace, values: [bar]}",
                        same,
                        false),
                at(
                        L4,
                        "at ztunnel source.namespace needs mTLS",
                        "{key: source.namespace, values: [\"*\"]}",
                        plaintext,
                        false),
                at(
                        L7,
                        "source.principal matches the peer identity",
                        "{key: source.principal, values: [\"cluster.local/ns/foo/sa/sleep\"]}",
                        same,
                        true),
                at(
                        L4,
                        "at ztunnel source.principal matches the peer identity",
                        "{key: source.principal, values: [\"cluster.local/ns/foo/sa/sleep\"]}",
                        same,
                        true),
                at(
                        L4,
                        "at ztunnel source.principal does not match another identity",
                        "{key: source.principal, values: [\"cluster.local/ns/foo/sa/sleep\"]}",
                        curl,
                        false),
                at(
                        L7,
                        "request.auth.principal matches iss/sub",
                        "{key: request.auth.principal, values: [\"https://issuer.example.com/alice\"]}",
                        alice,
                        true),
                at(
                        L4,
                        "request.auth.principal is HTTP-only: the ALLOW rule is dropped at ztunnel",
                        "{key: request.auth.principal, notValues: [\"*\"]}",
                        same,
                        false),
                at(
                        L7,
                        "request.auth.audiences matches the aud claim",
                        "{key: request.auth.audiences, values: [api]}",
                        alice,
                        true),
                at(
                        L7,
                        "request.auth.audiences matches any element of a list aud claim",
                        "{key: request.auth.audiences, values: [api]}",
                        token(List.of("web", "api"), null, Map.of()),
                        true),
                at(
                        L7,
                        "request.auth.audiences does not match another audience",
                        "{key: request.auth.audiences, values: [billing]}",
                        alice,
                        false),
                at(
                        L7,
                        "request.auth.presenter matches the azp claim",
                        "{key: request.auth.presenter, values: [\"web-*\"]}",
                        alice,
                        true),
                at(
                        L7,
                        "request.auth.presenter fails without azp claim",
                        "{key: request.auth.presenter, values: [\"*\"]}",
                        token(List.of(), null, Map.of()),
                        false),
                at(
                        L7,
                        "request.auth.claims[c] matches a top-level claim",
                        "{key: \"request.auth.claims[group]\", values: [admins]}",
                        token(List.of(), null, Map.of("group", "admins")),
                        true),
                at(
                        L7,
                        "request.auth.claims[c][n] descends into a nested object",
                        "{key: \"request.auth.claims[realm][role]\", values: [admin]}",
                        token(List.of(), null, Map.of("realm", Map.of("role", "admin"))),
                        true),
                at(
                        L7,
                        "request.auth.claims[c][n] does not match a top-level claim of the other name",
                        "{key: \"request.auth.claims[realm][role]\", values: [admin]}",
                        token(List.of(), null, Map.of("role", "admin")),
                        false),
                at(
                        L7,
                        "request.auth.claims[a.b] is the single top-level claim named a.b",
                        "{key: \"request.auth.claims[a.b]\", values: [x]}",
                        token(List.of(), null, Map.of("a.b", "x")),
                        true),
                at(
                        L7,
                        "request.auth.claims[a.b] does not descend into claim a",
                        "{key: \"request.auth.claims[a.b]\", values: [x]}",
                        token(List.of(), null, Map.of("a", Map.of("b", "x"))),
                        false),
                at(
                        L4,
                        "request.auth.claims are HTTP-only: the ALLOW rule is dropped at ztunnel",
                        "{key: \"request.auth.claims[group]\", notValues: [banned]}",
                        same,
                        false),
                at(
                        L4,
                        "at ztunnel destination.ip matches the destination address",
                        "{key: destination.ip, values: [10.0.1.0/24]}",
                        same,
                        true),
                at(
                        L4,
                        "at ztunnel destination.ip does not match another address",
                        "{key: destination.ip, values: [10.0.2.1]}",
                        same,
                        false),
                at(
                        L4,
                        "at ztunnel destination.port matches the workload port",
                        "{key: destination.port, values: [\"8080\"]}",
                        same,
                        true),
                at(
                        L4,
                        "at ztunnel destination.port does not match another port",
                        "{key: destination.port, values: [\"8080\"]}",
                        b -> b.port(9090),
                        false),
                at(
                        L4,
                        "at ztunnel destination.port notValues exclude the port",
                        "{key: destination.port, notValues: [\"8080\"]}",
                        same,
                        false),
                at(
                        L4,
                        "connection.sni is HTTP-only at ztunnel: the ALLOW rule is dropped even when the SNI matches",
                        "{key: connection.sni, values: [\"*\"]}",
                        b -> b.sni("httpbin.foo.svc.cluster.local"),
                        false));
    }

    /** A DENY rule whose only condition ztunnel cannot see never fires there (§2.10 applied to §2.7). */
    @ParameterizedTest
    @MethodSource
    void aDenyOnAnHttpOnlyKeyIsANoOpAtZtunnel(String condition) {
        var yaml = policy(
                "d",
                "action: DENY\nrules: [{from: [{source: {principals: [\"cluster.local/ns/foo/sa/sleep\"]}}], when: ["
                        + condition + "]}]\n");
        check(snapshot(yaml).decideL4(l4().sni("httpbin.foo.svc.cluster.local").build()), allowedNoAllowPolicy());
    }

    static Stream<Arguments> aDenyOnAnHttpOnlyKeyIsANoOpAtZtunnel() {
        return Stream.of(
                argumentSet("request.headers", "{key: \"request.headers[x-a]\", notValues: [b]}"),
                argumentSet("remote.ip", "{key: remote.ip, values: [0.0.0.0/0]}"),
                argumentSet("request.auth.principal", "{key: request.auth.principal, notValues: [\"*\"]}"),
                argumentSet("request.auth.audiences", "{key: request.auth.audiences, notValues: [api]}"),
                argumentSet("request.auth.presenter", "{key: request.auth.presenter, notValues: [app]}"),
                argumentSet("request.auth.claims", "{key: \"request.auth.claims[group]\", notValues: [admins]}"),
                argumentSet(
                        "connection.sni (HTTP-only at ztunnel although documented for TCP)",
                        "{key: connection.sni, values: [\"*\"]}"));
    }
}
