package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.assertLoads;
import static io.ambit.policy.semantics.Fixture.assertRejected;
import static io.ambit.policy.semantics.Fixture.load;
import static io.ambit.policy.semantics.Fixture.policy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.1: what never reaches a data plane, and what is valid although it looks empty. */
class ValidationTest {
    private static final String RULE0 = "spec.rules[0]";
    private static final String SOURCE0 = "spec.rules[0].from[0].source";
    private static final String OPERATION0 = "spec.rules[0].to[0].operation";
    private static final String WHEN0 = "spec.rules[0].when[0]";

    @ParameterizedTest
    @MethodSource
    void rejected(String spec, String[] fieldPaths) {
        assertRejected(load(policy("p", spec)), fieldPaths);
    }

    private static Arguments reject(String name, String spec, String... fieldPaths) {
        return argumentSet(name, spec, fieldPaths);
    }

    /** A rule with one source. */
    private static String from(String source) {
        return "rules: [{from: [{source: " + source + "}]}]\n";
    }

    /** A rule with one operation. */
    private static String to(String operation) {
        return "rules: [{to: [{operation: " + operation + "}]}]\n";
    }

    /** A rule with one condition. */
    private static String when(String condition) {
        return "rules: [{when: [" + condition + "]}]\n";
    }

    private static final String CUSTOM = "action: CUSTOM\nprovider: {name: ext-authz}\n";

    static Stream<Arguments> rejected() {
        String seventeen = IntStream.rangeClosed(1, 17).mapToObj(i -> "sa" + i).collect(Collectors.joining(", "));
        String longSa = "s".repeat(321);
        return Stream.of(
                reject(
                        "selector together with targetRefs is rejected",
                        "selector: {matchLabels: {app: httpbin}}\n"
                                + "targetRefs: [{kind: Service, group: \"\", name: httpbin}]\nrules: [{}]\n",
                        "spec.selector",
                        "spec.targetRefs"),
                reject(
                        "selector together with the singular targetRef is rejected",
                        "selector: {matchLabels: {app: httpbin}}\n"
                                + "targetRef: {kind: Service, group: \"\", name: httpbin}\nrules: [{}]\n",
                        "spec.selector",
                        "spec.targetRef"),
                reject("a DENY policy without rules is rejected as meaningless", "action: DENY\n", "spec.rules"),
                reject("a CUSTOM policy without rules is rejected as meaningless", CUSTOM, "spec.rules"),
                reject(
                        "a CUSTOM policy without provider is rejected",
                        "action: CUSTOM\nrules: [{}]\n",
                        "spec.provider"),
                reject(
                        "a CUSTOM policy whose provider has no name is rejected",
                        "action: CUSTOM\nprovider: {}\nrules: [{}]\n",
                        "spec.provider"),
                reject(
                        "a provider with action ALLOW is rejected",
                        "action: ALLOW\nprovider: {name: ext-authz}\nrules: [{}]\n",
                        "spec.provider"),
                reject(
                        "a provider with action DENY is rejected",
                        "action: DENY\nprovider: {name: ext-authz}\nrules: [{}]\n",
                        "spec.provider"),
                reject(
                        "a provider with action AUDIT is rejected",
                        "action: AUDIT\nprovider: {name: ext-authz}\nrules: [{}]\n",
                        "spec.provider"),
                reject(
                        "a provider without action (ALLOW) is rejected",
                        "provider: {name: ext-authz}\nrules: [{}]\n",
                        "spec.provider"),
                reject("a rule with from: [] is rejected", "rules: [{from: []}]\n", RULE0 + ".from"),
                reject("a rule with to: [] is rejected", "rules: [{to: []}]\n", RULE0 + ".to"),
                reject("a from entry without source is rejected", "rules: [{from: [{}]}]\n", RULE0 + ".from[0]"),
                reject("a from entry with an empty source is rejected", from("{}"), RULE0 + ".from[0]"),
                reject(
                        "a source whose only field is an empty list has no field set and is rejected",
                        from("{principals: []}"),
                        RULE0 + ".from[0]"),
                reject("a to entry without operation is rejected", "rules: [{to: [{}]}]\n", RULE0 + ".to[0]"),
                reject("a to entry with an empty operation is rejected", to("{}"), RULE0 + ".to[0]"),
                reject(
                        "an operation whose only field is an empty list is empty and is rejected",
                        to("{methods: []}"),
                        RULE0 + ".to[0]"),
                reject(
                        "an empty string in principals is rejected",
                        from("{principals: [\"\"]}"),
                        SOURCE0 + ".principals"),
                reject(
                        "an empty string in notNamespaces is rejected",
                        from("{notNamespaces: [bar, \"\"]}"),
                        SOURCE0 + ".notNamespaces"),
                reject("an empty string in hosts is rejected", to("{hosts: [\"\"]}"), OPERATION0 + ".hosts"),
                reject("an empty string in paths is rejected", to("{paths: [\"\"]}"), OPERATION0 + ".paths"),
                reject(
                        "an empty string in condition values is rejected",
                        when("{key: \"request.headers[x-a]\", values: [\"\"]}"),
                        WHEN0 + ".values"),
                reject(
                        "an empty string in condition notValues is rejected",
                        when("{key: \"request.headers[x-a]\", notValues: [\"\"]}"),
                        WHEN0 + ".notValues"),
                reject(
                        "serviceAccounts with principals in one source is rejected",
                        from("{serviceAccounts: [sleep], principals: [\"cluster.local/ns/foo/sa/sleep\"]}"),
                        SOURCE0),
                reject(
                        "serviceAccounts with notPrincipals in one source is rejected",
                        from("{serviceAccounts: [sleep], notPrincipals: [\"cluster.local/ns/foo/sa/x\"]}"),
                        SOURCE0),
                reject(
                        "serviceAccounts with namespaces in one source is rejected",
                        from("{serviceAccounts: [sleep], namespaces: [foo]}"),
                        SOURCE0),
                reject(
                        "notServiceAccounts with notNamespaces in one source is rejected",
                        from("{notServiceAccounts: [sleep], notNamespaces: [bar]}"),
                        SOURCE0),
                reject(
                        "a service account with a wildcard is rejected",
                        from("{serviceAccounts: [\"foo/*\"]}"),
                        SOURCE0 + ".serviceAccounts"),
                reject(
                        "a lone wildcard service account is rejected",
                        from("{notServiceAccounts: [\"*\"]}"),
                        SOURCE0 + ".notServiceAccounts"),
                reject(
                        "a service account with more than one slash is rejected",
                        from("{serviceAccounts: [\"foo/bar/sleep\"]}"),
                        SOURCE0 + ".serviceAccounts"),
                reject(
                        "a service account with an empty namespace part is rejected",
                        from("{serviceAccounts: [\"/sleep\"]}"),
                        SOURCE0 + ".serviceAccounts"),
                reject(
                        "a service account with an empty name part is rejected",
                        from("{serviceAccounts: [\"foo/\"]}"),
                        SOURCE0 + ".serviceAccounts"),
                reject(
                        "more than 16 service accounts are rejected",
                        from("{serviceAccounts: [" + seventeen + "]}"),
                        SOURCE0 + ".serviceAccounts"),
                reject(
                        "a service account over 320 characters is rejected",
                        from("{serviceAccounts: [" + longSa + "]}"),
                        SOURCE0 + ".serviceAccounts"),
                reject(
                        "an invalid address in ipBlocks is rejected",
                        from("{ipBlocks: [\"10.0.0.256\"]}"),
                        SOURCE0 + ".ipBlocks"),
                reject(
                        "an invalid prefix length in notIpBlocks is rejected",
                        from("{notIpBlocks: [\"10.0.0.0/33\"]}"),
                        SOURCE0 + ".notIpBlocks"),
                reject(
                        "a wildcard in remoteIpBlocks is rejected",
                        from("{remoteIpBlocks: [\"*\"]}"),
                        SOURCE0 + ".remoteIpBlocks"),
                reject(
                        "a host name in notRemoteIpBlocks is rejected",
                        from("{notRemoteIpBlocks: [example.com]}"),
                        SOURCE0 + ".notRemoteIpBlocks"),
                reject(
                        "an invalid address in a source.ip condition is rejected",
                        when("{key: source.ip, values: [\"1.2.3\"]}"),
                        WHEN0 + ".values"),
                reject(
                        "an invalid block in a remote.ip condition is rejected",
                        when("{key: remote.ip, notValues: [\"fd00::/129\"]}"),
                        WHEN0 + ".notValues"),
                reject(
                        "an invalid address in a destination.ip condition is rejected",
                        when("{key: destination.ip, values: [\"not-an-ip\"]}"),
                        WHEN0 + ".values"),
                reject("a port name in ports is rejected", to("{ports: [http]}"), OPERATION0 + ".ports"),
                reject("a port over 65535 is rejected", to("{ports: [\"65536\"]}"), OPERATION0 + ".ports"),
                reject("a negative port is rejected", to("{notPorts: [\"-1\"]}"), OPERATION0 + ".notPorts"),
                reject("a wildcard port is rejected", to("{ports: [\"*\"]}"), OPERATION0 + ".ports"),
                reject("a port range is rejected", to("{ports: [\"8000-9000\"]}"), OPERATION0 + ".ports"),
                reject(
                        "a non-numeric destination.port condition value is rejected",
                        when("{key: destination.port, values: [http]}"),
                        WHEN0 + ".values"),
                reject(
                        "a destination.port condition value over 65535 is rejected",
                        when("{key: destination.port, notValues: [\"65536\"]}"),
                        WHEN0 + ".notValues"),
                reject("a condition without key is rejected", when("{values: [a]}"), WHEN0),
                reject(
                        "a condition with neither values nor notValues is rejected",
                        when("{key: \"request.headers[x-a]\"}"),
                        WHEN0),
                reject("an unknown condition key is rejected", when("{key: request.foo, values: [a]}"), WHEN0),
                reject(
                        "the destination.namespace condition key is rejected",
                        when("{key: destination.namespace, values: [foo]}"),
                        WHEN0),
                reject(
                        "the destination.labels condition key is rejected",
                        when("{key: \"destination.labels[app]\", values: [httpbin]}"),
                        WHEN0),
                reject(
                        "the destination.name condition key is rejected",
                        when("{key: destination.name, values: [httpbin]}"),
                        WHEN0),
                reject(
                        "the destination.user condition key is rejected",
                        when("{key: destination.user, values: [httpbin]}"),
                        WHEN0),
                reject(
                        "a request.headers key without brackets is rejected",
                        when("{key: request.headers, values: [a]}"),
                        WHEN0),
                reject(
                        "a request.headers key without its closing bracket is rejected",
                        when("{key: \"request.headers[x-a\", values: [a]}"),
                        WHEN0),
                reject(
                        "a request.auth.claims key without its closing bracket is rejected",
                        when("{key: \"request.auth.claims[groups\", values: [a]}"),
                        WHEN0),
                reject(
                        "a request.auth.claims key without brackets is rejected",
                        when("{key: request.auth.claims, values: [a]}"),
                        WHEN0),
                reject(
                        "an experimental key without its closing bracket is rejected",
                        when("{key: \"experimental.envoy.filters.network.mysql_proxy[db.table\", values: [a]}"),
                        WHEN0),
                reject(
                        "a path with a brace outside {*} and {**} is rejected",
                        to("{paths: [\"/api/{id}\"]}"),
                        OPERATION0 + ".paths"),
                reject(
                        "a path template with {**} before another operator is rejected",
                        to("{paths: [\"/api/{**}/x/{*}\"]}"),
                        OPERATION0 + ".paths"),
                reject(
                        "a path template with other characters in the templated segment is rejected",
                        to("{notPaths: [\"/api/v{*}\"]}"),
                        OPERATION0 + ".notPaths"),
                reject(
                        "a path with an unclosed operator is rejected",
                        to("{paths: [\"/api/{*\"]}"),
                        OPERATION0 + ".paths"),
                reject("CUSTOM with principals is rejected", CUSTOM + from("{principals: [\"*\"]}"), SOURCE0),
                reject("CUSTOM with notPrincipals is rejected", CUSTOM + from("{notPrincipals: [\"*\"]}"), SOURCE0),
                reject("CUSTOM with namespaces is rejected", CUSTOM + from("{namespaces: [foo]}"), SOURCE0),
                reject("CUSTOM with notNamespaces is rejected", CUSTOM + from("{notNamespaces: [foo]}"), SOURCE0),
                reject("CUSTOM with serviceAccounts is rejected", CUSTOM + from("{serviceAccounts: [sleep]}"), SOURCE0),
                reject(
                        "CUSTOM with notServiceAccounts is rejected",
                        CUSTOM + from("{notServiceAccounts: [sleep]}"),
                        SOURCE0),
                reject(
                        "CUSTOM with trustDomains is rejected",
                        CUSTOM + from("{trustDomains: [cluster.local]}"),
                        SOURCE0),
                reject(
                        "CUSTOM with requestPrincipals is rejected",
                        CUSTOM + from("{requestPrincipals: [\"*\"]}"),
                        SOURCE0),
                reject(
                        "CUSTOM with notRequestPrincipals is rejected",
                        CUSTOM + from("{notRequestPrincipals: [\"*\"]}"),
                        SOURCE0),
                reject(
                        "CUSTOM with a source.namespace condition is rejected",
                        CUSTOM + when("{key: source.namespace, values: [foo]}"),
                        WHEN0),
                reject(
                        "CUSTOM with a source.principal condition is rejected",
                        CUSTOM + when("{key: source.principal, values: [\"*\"]}"),
                        WHEN0),
                reject(
                        "CUSTOM with a source.serviceAccount condition is rejected",
                        CUSTOM + when("{key: source.serviceAccount, values: [sleep]}"),
                        WHEN0),
                reject(
                        "CUSTOM with a source.trustDomain condition is rejected",
                        CUSTOM + when("{key: source.trustDomain, values: [cluster.local]}"),
                        WHEN0),
                reject(
                        "CUSTOM with a request.auth.principal condition is rejected",
                        CUSTOM + when("{key: request.auth.principal, values: [\"*\"]}"),
                        WHEN0),
                reject(
                        "CUSTOM with a request.auth.audiences condition is rejected",
                        CUSTOM + when("{key: request.auth.audiences, values: [api]}"),
                        WHEN0),
                reject(
                        "CUSTOM with a request.auth.presenter condition is rejected",
                        CUSTOM + when("{key: request.auth.presenter, values: [app]}"),
                        WHEN0),
                reject(
                        "CUSTOM with a request.auth.claims condition is rejected",
                        CUSTOM + when("{key: \"request.auth.claims[groups]\", values: [admin]}"),
                        WHEN0));
    }

    @ParameterizedTest
    @MethodSource
    void valid(String spec) {
        assertLoads(load(policy("p", spec)));
    }

    static Stream<Arguments> valid() {
        return Stream.of(
                argumentSet("an empty spec is valid (allow-nothing)", "{}"),
                argumentSet("action ALLOW without rules is valid (allow-nothing)", "action: ALLOW\n"),
                argumentSet("action ALLOW with an empty rules list is valid", "action: ALLOW\nrules: []\n"),
                argumentSet("AUDIT without rules is valid", "action: AUDIT\n"),
                argumentSet("DENY with one empty rule is valid (deny-all)", "action: DENY\nrules: [{}]\n"),
                argumentSet("CUSTOM with provider and one empty rule is valid", CUSTOM + "rules: [{}]\n"),
                argumentSet(
                        "CUSTOM with request attributes that are not identities is valid",
                        CUSTOM
                                + "rules: [{from: [{source: {ipBlocks: [10.0.0.0/8]}}], to: [{operation: {paths:"
                                + " [/admin]}}], when: [{key: \"request.headers[x-a]\", values: [b]}]}]\n"),
                argumentSet("ports 0 and 65535 are valid decimal strings", to("{ports: [\"0\", \"65535\"]}")),
                argumentSet("a service account in the policy namespace is valid", from("{serviceAccounts: [sleep]}")),
                argumentSet(
                        "16 service accounts are valid",
                        from("{serviceAccounts: ["
                                + IntStream.rangeClosed(1, 16)
                                        .mapToObj(i -> "sa" + i)
                                        .collect(Collectors.joining(", "))
                                + "]}")),
                argumentSet(
                        "a service account of exactly 320 characters is valid",
                        from("{serviceAccounts: [" + "s".repeat(320) + "]}")),
                argumentSet(
                        "the connection.sni key is valid", when("{key: connection.sni, values: [\"*.example.com\"]}")),
                argumentSet(
                        "an experimental.envoy.filters key of the form a[b] is valid",
                        when(
                                "{key: \"experimental.envoy.filters.network.mysql_proxy[db.table]\", values: [\"[update]\"]}")),
                argumentSet("a namespaced service account is valid", from("{serviceAccounts: [bar/curl]}")),
                argumentSet(
                        "IPv4 and IPv6 addresses and blocks are valid",
                        from("{ipBlocks: [10.0.0.1, 10.0.0.0/8, \"2001:db8::1\", \"2001:db8::/32\"]}")),
                argumentSet(
                        "a nested claim key is valid",
                        when("{key: \"request.auth.claims[realm][roles]\", values: [admin]}")),
                argumentSet(
                        "path templates with {*} segments and a final {**} are valid",
                        to("{paths: [\"/api/{*}/items/{**}\"]}")),
                argumentSet(
                        "a condition with only notValues is valid", when("{key: source.ip, notValues: [10.0.0.1]}")),
                argumentSet(
                        "principals, namespaces and ipBlocks together in one source are valid",
                        from("{principals: [\"*\"], namespaces: [foo], ipBlocks: [10.0.0.0/8]}")));
    }
}
