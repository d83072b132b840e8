package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.semantics.Fixture.Expect;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * authz-semantics §2.10: how ztunnel handles rules that use HTTP attributes. ALLOW drops the whole rule; DENY
 * strips the HTTP parts, and a match left empty never matches.
 */
class L4HttpOnlyTest {
    private static final String SLEEP = "cluster.local/ns/foo/sa/sleep";
    private static final String CURL = "cluster.local/ns/bar/sa/curl";

    private static String allow(String rules) {
        return policy("p", "rules:\n" + rules);
    }

    private static String deny(String rules) {
        return policy("d", "action: DENY\nrules:\n" + rules);
    }

    @ParameterizedTest
    @MethodSource
    void allowRules(String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml).decideL4(request), expected);
    }

    static Stream<Arguments> allowRules() {
        return Stream.of(
                argumentSet(
                        "an ALLOW rule with methods is dropped whole, including its principals",
                        allow("- from: [{source: {principals: [\"" + SLEEP + "\"]}}]\n"
                                + "  to: [{operation: {methods: [GET]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with ports and methods in one operation is dropped whole",
                        allow("- to: [{operation: {ports: [\"8080\"], methods: [GET]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with requestPrincipals in one source is dropped with its other sources",
                        allow("- from: [{source: {principals: [\"" + SLEEP + "\"]}}, {source: {requestPrincipals:"
                                + " [\"*\"]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with notRequestPrincipals is dropped",
                        allow("- from: [{source: {ipBlocks: [10.0.0.0/8], notRequestPrincipals: [\"*\"]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with remoteIpBlocks is dropped",
                        allow("- from: [{source: {ipBlocks: [10.0.0.0/8], remoteIpBlocks: [10.0.0.0/8]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with a header condition is dropped, including its principals",
                        allow("- from: [{source: {principals: [\"" + SLEEP + "\"]}}]\n"
                                + "  when: [{key: \"request.headers[x-a]\", notValues: [b]}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with hosts in one of its operations is dropped with the others",
                        allow("- to: [{operation: {ports: [\"8080\"]}}, {operation: {hosts: [\"*\"]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with notPaths is dropped",
                        allow("- to: [{operation: {ports: [\"8080\"], notPaths: [/admin]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with notHosts is dropped",
                        allow("- to: [{operation: {notHosts: [evil.example.com]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "an ALLOW rule with notMethods is dropped",
                        allow("- to: [{operation: {notMethods: [DELETE]}}]\n"),
                        l4().build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "the pure-L4 rules of the same ALLOW policy still apply, under their own index",
                        allow("- to: [{operation: {methods: [GET]}}]\n- from: [{source: {principals: [\"" + SLEEP
                                + "\"]}}]\n"),
                        l4().build(),
                        allowedBy("foo/p", 1)),
                argumentSet(
                        "an ALLOW policy whose rules were all dropped still counts: plaintext is denied too",
                        allow("- to: [{operation: {methods: [GET]}}]\n"),
                        l4().peer(null).build(),
                        deniedNoAllowMatched()),
                argumentSet(
                        "another ALLOW policy can still admit what the dropped rule would have",
                        docs(
                                allow("- to: [{operation: {methods: [GET]}}]\n"),
                                policy("q", "rules: [{from: [{source: {namespaces: [foo]}}]}]\n")),
                        l4().build(),
                        allowedBy("foo/q", 0)));
    }

    @ParameterizedTest
    @MethodSource
    void denyRules(String yaml, AccessRequest request, Expect expected) {
        check(snapshot(yaml).decideL4(request), expected);
    }

    static Stream<Arguments> denyRules() {
        return Stream.of(
                argumentSet(
                        "a DENY on methods and a port denies all traffic to that port",
                        deny("- to: [{operation: {methods: [POST], ports: [\"8080\"]}}]\n"),
                        l4().build(),
                        deniedBy("foo/d", 0)),
                argumentSet(
                        "a DENY on methods and a port leaves other ports alone",
                        deny("- to: [{operation: {methods: [POST], ports: [\"8080\"]}}]\n"),
                        l4().port(9090).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY on hosts and notPorts keeps notPorts: other ports are denied",
                        deny("- to: [{operation: {hosts: [evil.example.com], notPorts: [\"9090\"]}}]\n"),
                        l4().build(),
                        deniedBy("foo/d", 0)),
                argumentSet(
                        "a DENY on hosts and notPorts keeps notPorts: the excluded port passes",
                        deny("- to: [{operation: {hosts: [evil.example.com], notPorts: [\"9090\"]}}]\n"),
                        l4().port(9090).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY on principals and notRequestPrincipals denies all traffic from those principals",
                        deny("- from: [{source: {principals: [\"" + SLEEP + "\"], notRequestPrincipals: [\"*\"]}}]\n"),
                        l4().build(),
                        deniedBy("foo/d", 0)),
                argumentSet(
                        "a DENY on principals and notRequestPrincipals leaves other principals alone",
                        deny("- from: [{source: {principals: [\"" + SLEEP + "\"], notRequestPrincipals: [\"*\"]}}]\n"),
                        l4().peer(CURL).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY on methods alone never fires at ztunnel",
                        deny("- to: [{operation: {methods: [POST]}}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY on principals and methods never fires at ztunnel",
                        deny("- from: [{source: {principals: [\"" + SLEEP + "\"]}}]\n"
                                + "  to: [{operation: {methods: [POST]}}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY on principals and a header condition never fires at ztunnel",
                        deny("- from: [{source: {principals: [\"" + SLEEP + "\"]}}]\n"
                                + "  when: [{key: \"request.headers[x-a]\", values: [\"*\"]}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY on notRequestPrincipals [*] never fires at ztunnel, not even for plaintext",
                        deny("- from: [{source: {notRequestPrincipals: [\"*\"]}}]\n"),
                        l4().peer(null).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY on remoteIpBlocks alone never fires at ztunnel",
                        deny("- from: [{source: {remoteIpBlocks: [0.0.0.0/0]}}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY with an L4 condition and an HTTP condition never fires at ztunnel",
                        deny("- when: [{key: source.ip, values: [10.0.0.0/8]}, {key: \"request.headers[x-a]\","
                                + " notValues: [b]}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "an extra catch-all rule of the same DENY policy is unaffected",
                        deny("- to: [{operation: {methods: [POST]}}]\n- {}\n"),
                        l4().build(),
                        deniedBy("foo/d", 1)),
                argumentSet(
                        "a DENY operation list keeps its L4 matches: the listed port is denied",
                        deny("- to: [{operation: {methods: [POST]}}, {operation: {ports: [\"9090\"]}}]\n"),
                        l4().port(9090).build(),
                        deniedBy("foo/d", 0)),
                argumentSet(
                        "a DENY operation list skips its emptied matches: other ports pass",
                        deny("- to: [{operation: {methods: [POST]}}, {operation: {ports: [\"9090\"]}}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY source list keeps its L4 sources: the listed principal is denied",
                        deny("- from: [{source: {requestPrincipals: [\"*\"]}}, {source: {principals: [\"" + SLEEP
                                + "\"]}}]\n"),
                        l4().build(),
                        deniedBy("foo/d", 0)),
                argumentSet(
                        "a DENY source list skips its emptied sources: plaintext passes",
                        deny("- from: [{source: {requestPrincipals: [\"*\"]}}, {source: {principals: [\"" + SLEEP
                                + "\"]}}]\n"),
                        l4().peer(null).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "a DENY on an L4 condition plus stripped operations still needs the condition",
                        deny("- to: [{operation: {ports: [\"8080\"], paths: [/admin]}}]\n"
                                + "  when: [{key: source.ip, values: [10.9.0.0/16]}]\n"),
                        l4().build(),
                        allowedNoAllowPolicy()));
    }
}
