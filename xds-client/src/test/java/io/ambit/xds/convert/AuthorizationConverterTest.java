package io.ambit.xds.convert;

import static io.ambit.xds.convert.ProtoFixtures.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.proto.security.Action;
import io.ambit.xds.proto.security.Address;
import io.ambit.xds.proto.security.Authorization;
import io.ambit.xds.proto.security.Clause;
import io.ambit.xds.proto.security.Match;
import io.ambit.xds.proto.security.Rule;
import io.ambit.xds.proto.security.Scope;
import io.ambit.xds.proto.security.ServiceAccountMatch;
import io.ambit.xds.proto.security.StringMatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AuthorizationConverterTest {
    private static final MeshConfig MESH = MeshConfig.DEFAULT;

    // ---- building blocks, as istiod writes them

    static StringMatch exact(String v) {
        return StringMatch.newBuilder().setExact(v).build();
    }

    static StringMatch prefix(String v) {
        return StringMatch.newBuilder().setPrefix(v).build();
    }

    static StringMatch suffix(String v) {
        return StringMatch.newBuilder().setSuffix(v).build();
    }

    static StringMatch presence() {
        return StringMatch.newBuilder().setPresence(Empty.getDefaultInstance()).build();
    }

    static Address cidr(String ip, int len) {
        return Address.newBuilder().setAddress(ip(ip)).setLength(len).build();
    }

    static Clause clause(Match.Builder... matches) {
        var c = Clause.newBuilder();
        for (var m : matches) {
            c.addMatches(m);
        }
        return c.build();
    }

    static Rule rule(Clause... clauses) {
        return Rule.newBuilder().addAllClauses(List.of(clauses)).build();
    }

    static Authorization policy(String ns, String name, Scope scope, Action action, Rule... rules) {
        return Authorization.newBuilder()
                .setNamespace(ns)
                .setName(name)
                .setScope(scope)
                .setAction(action)
                .addAllRules(List.of(rules))
                .build();
    }

    /** The engine's verdict for one connection to a workload of {@code ns} selected by {@code selected}. */
    static boolean engineAllows(List<Authorization> policies, String ns, List<String> selected, Ztunnel.Conn c)
            throws InvalidResourceException {
        var converted = new ArrayList<AuthorizationPolicy>();
        for (int i = 0; i < policies.size(); i++) {
            var a = policies.get(i);
            converted.add(AuthorizationConverter.convert(a.getNamespace() + "/" + a.getName(), a, MESH, i));
        }
        var snapshot = PolicyCompiler.compile(new PolicySet(converted, List.of(), List.of()), MESH);
        var request = AccessRequest.builder()
                .peer(c.principal())
                .sourceIp(c.source().toString())
                .destinationIp(c.destination().toString())
                .port(c.port())
                .destination(ns, PolicyLabels.of(ns, "app", "v1", selected))
                .build();
        return snapshot.decideL4(request).allowed();
    }

    static Ztunnel.Conn conn(String principal, String src, String dst, int port) {
        return new Ztunnel.Conn(principal, IpAddress.parse(src), IpAddress.parse(dst), port);
    }

    // ---- what istiod sends, case by case

    static Stream<Arguments> istiodShapes() {
        var strict = policy(
                "istio-system",
                "istio_converted_static_strict",
                Scope.GLOBAL,
                Action.DENY,
                rule(clause(Match.newBuilder().addNotPrincipals(presence()))));
        var allowFromA = policy(
                "ns1",
                "allow-a",
                Scope.NAMESPACE,
                Action.ALLOW,
                rule(
                        clause(Match.newBuilder().addPrincipals(exact("cluster.local/ns/a/sa/x"))),
                        clause(Match.newBuilder().addDestinationPorts(8080))));
        var denySaAndWhen = policy(
                "ns1",
                "deny-b",
                Scope.WORKLOAD_SELECTOR,
                Action.DENY,
                rule(
                        clause(Match.newBuilder()
                                .addServiceAccounts(ServiceAccountMatch.newBuilder()
                                        .setNamespace("b")
                                        .setServiceAccount("y"))),
                        clause(Match.newBuilder().addSourceIps(cidr("10.1.0.0", 16)))));
        var plaintext = conn(null, "10.1.2.3", "10.0.0.5", 8080);
        var fromA = conn("cluster.local/ns/a/sa/x", "10.1.2.3", "10.0.0.5", 8080);
        var fromAOtherPort = conn("cluster.local/ns/a/sa/x", "10.1.2.3", "10.0.0.5", 9090);
        var fromB = conn("cluster.local/ns/b/sa/y", "10.1.2.3", "10.0.0.5", 8080);
        var fromBElsewhere = conn("cluster.local/ns/b/sa/y", "10.2.2.3", "10.0.0.5", 8080);
        return Stream.of(
                Arguments.of("mesh-wide STRICT refuses plaintext", List.of(strict), "ns1", List.of(), plaintext, false),
                Arguments.of("mesh-wide STRICT admits mTLS", List.of(strict), "ns9", List.of(), fromA, true),
                Arguments.of(
                        "an ALLOW admits its principal on its port",
                        List.of(allowFromA),
                        "ns1",
                        List.of(),
                        fromA,
                        true),
                Arguments.of(
                        "an ALLOW refuses its principal on another port",
                        List.of(allowFromA),
                        "ns1",
                        List.of(),
                        fromAOtherPort,
                        false),
                Arguments.of("an ALLOW refuses another principal", List.of(allowFromA), "ns1", List.of(), fromB, false),
                Arguments.of(
                        "a namespace ALLOW leaves other namespaces alone",
                        List.of(allowFromA),
                        "ns2",
                        List.of(),
                        fromB,
                        true),
                Arguments.of(
                        "a selector DENY applies to a workload that lists it",
                        List.of(denySaAndWhen),
                        "ns1",
                        List.of("ns1/deny-b"),
                        fromB,
                        false),
                Arguments.of(
                        "a selector DENY ignores a workload that does not list it",
                        List.of(denySaAndWhen),
                        "ns1",
                        List.of(),
                        fromB,
                        true),
                Arguments.of(
                        "a selector DENY needs all its clauses",
                        List.of(denySaAndWhen),
                        "ns1",
                        List.of("ns1/deny-b"),
                        fromBElsewhere,
                        true),
                Arguments.of(
                        "an ALLOW with no rules allows nothing",
                        List.of(policy("ns1", "nothing", Scope.NAMESPACE, Action.ALLOW)),
                        "ns1",
                        List.of(),
                        fromA,
                        false),
                Arguments.of(
                        "a rule without clauses matches everything",
                        List.of(policy("ns1", "all", Scope.NAMESPACE, Action.DENY, rule())),
                        "ns1",
                        List.of(),
                        fromA,
                        false),
                Arguments.of(
                        "a dry-run DENY is not enforced",
                        List.of(policy("ns1", "all", Scope.NAMESPACE, Action.DENY, rule()).toBuilder()
                                .setDryRun(true)
                                .build()),
                        "ns1",
                        List.of(),
                        fromA,
                        true),
                Arguments.of(
                        "a NAMESPACE policy in the root namespace applies there only",
                        List.of(policy("istio-system", "root-ns", Scope.NAMESPACE, Action.DENY, rule())),
                        "ns1",
                        List.of(),
                        fromA,
                        true),
                Arguments.of(
                        "an empty match is skipped, so its clause fails",
                        List.of(policy("ns1", "empty", Scope.NAMESPACE, Action.DENY, rule(clause(Match.newBuilder())))),
                        "ns1",
                        List.of(),
                        fromA,
                        true),
                Arguments.of(
                        "service accounts two clauses require intersect to nothing (a shape istiod never sends)",
                        List.of(policy(
                                "ns1",
                                "mixed",
                                Scope.NAMESPACE,
                                Action.DENY,
                                rule(
                                        clause(Match.newBuilder()
                                                .addServiceAccounts(
                                                        ServiceAccountMatch.newBuilder()
                                                                .setNamespace("a")
                                                                .setServiceAccount("x"))
                                                .addDestinationPorts(8080)),
                                        clause(Match.newBuilder()
                                                .addServiceAccounts(
                                                        ServiceAccountMatch.newBuilder()
                                                                .setNamespace("b")
                                                                .setServiceAccount("y"))
                                                .addDestinationPorts(8080))))),
                        "ns1",
                        List.of(),
                        fromA,
                        true),
                Arguments.of(
                        "a match mixing source and destination fields is kept whole (a shape istiod never sends)",
                        List.of(policy(
                                "ns1",
                                "mixed",
                                Scope.NAMESPACE,
                                Action.DENY,
                                rule(clause(
                                        Match.newBuilder()
                                                .addPrincipals(exact("cluster.local/ns/a/sa/x"))
                                                .addDestinationPorts(9090),
                                        Match.newBuilder().addNamespaces(exact("b")))))),
                        "ns1",
                        List.of(),
                        fromA,
                        true),
                Arguments.of(
                        "a clause without matches holds",
                        List.of(policy("ns1", "none", Scope.NAMESPACE, Action.DENY, rule(Clause.getDefaultInstance()))),
                        "ns1",
                        List.of(),
                        fromA,
                        false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("istiodShapes")
    void theEngineDecidesIstiodsPoliciesAsZtunnel(
            String name, List<Authorization> policies, String ns, List<String> selected, Ztunnel.Conn c, boolean allow)
            throws Exception {
        assertThat(Ztunnel.allowed(policies, ns, selected, c)).as("reference").isEqualTo(allow);
        assertThat(engineAllows(policies, ns, selected, c)).as("engine").isEqualTo(allow);
    }

    @Test
    void istiodsShapeMapsBackToFromToAndWhen() throws Exception {
        var a = policy(
                "ns1",
                "p",
                Scope.NAMESPACE,
                Action.ALLOW,
                rule(
                        clause(Match.newBuilder()
                                .addPrincipals(prefix("cluster.local/ns/a/"))
                                .addNamespaces(exact("a"))),
                        clause(
                                Match.newBuilder().addDestinationPorts(80),
                                Match.newBuilder().addNotDestinationPorts(9)),
                        clause(Match.newBuilder().addDestinationIps(cidr("10.0.0.0", 8)))));
        var p = AuthorizationConverter.convert("ns1/p", a, MESH, 0);
        assertThat(p.rules()).hasSize(1);
        var r = p.rules().getFirst();
        assertThat(r.from()).singleElement().satisfies(s -> {
            assertThat(s.principals()).containsExactly("cluster.local/ns/a/*");
            assertThat(s.namespaces()).containsExactly("a");
        });
        assertThat(r.to()).hasSize(2);
        assertThat(r.when()).singleElement().satisfies(c -> {
            assertThat(c.key()).isEqualTo("destination.ip");
            assertThat(c.values()).containsExactly("10.0.0.0/8");
        });
        assertThat(p.meta().ref()).isEqualTo("ns1/p");
        assertThat(p.dryRun()).isFalse();
    }

    @Test
    void aGlobalPolicyLivesInTheRootNamespace() throws Exception {
        var p = AuthorizationConverter.convert(
                "mesh-root/g", policy("mesh-root", "g", Scope.GLOBAL, Action.DENY, rule()), MESH, 0);
        assertThat(p.meta().namespace()).isEqualTo("istio-system");
        assertThat(p.selector().isEmpty()).isTrue();
    }

    // ---- any shape: the engine agrees with the reference on random policies

    private static final String[] PRINCIPALS = {
        "cluster.local/ns/a/sa/x", "cluster.local/ns/a/sa/y", "cluster.local/ns/b/sa/x", "other.td/ns/b/sa/z"
    };
    private static final String[] IPS = {"10.0.0.1", "10.1.0.1", "192.168.1.1", "fd00::1"};

    @Test
    void randomPoliciesOfAnyShapeDecideAsZtunnel() throws Exception {
        var random = new Random(20261121L);
        int compared = 0;
        for (int round = 0; round < 300; round++) {
            var policies = new ArrayList<Authorization>();
            int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                policies.add(randomPolicy(random, i));
            }
            var selected = random.nextBoolean() ? List.of("ns1/p0", "ns1/p1") : List.<String>of();
            for (int k = 0; k < 12; k++) {
                var c = new Ztunnel.Conn(
                        random.nextInt(5) == 0 ? null : PRINCIPALS[random.nextInt(PRINCIPALS.length)],
                        IpAddress.parse(IPS[random.nextInt(IPS.length)]),
                        IpAddress.parse(IPS[random.nextInt(IPS.length)]),
                        random.nextBoolean() ? 80 : 8080);
                boolean expected = Ztunnel.allowed(policies, "ns1", selected, c);
                assertThat(engineAllows(policies, "ns1", selected, c))
                        .as("round %d connection %s policies %s", round, c, policies)
                        .isEqualTo(expected);
                compared++;
            }
        }
        assertThat(compared).isEqualTo(3600);
    }

    private static Authorization randomPolicy(Random r, int i) {
        var b = Authorization.newBuilder()
                .setNamespace("ns1")
                .setName("p" + i)
                .setScope(Scope.forNumber(r.nextInt(3)))
                .setAction(r.nextBoolean() ? Action.ALLOW : Action.DENY)
                .setDryRun(r.nextInt(8) == 0);
        if (b.getScope() == Scope.GLOBAL) {
            b.setNamespace("istio-system");
        }
        int rules = r.nextInt(3);
        for (int j = 0; j < rules; j++) {
            var rule = Rule.newBuilder();
            int clauses = r.nextInt(4);
            for (int k = 0; k < clauses; k++) {
                var clause = Clause.newBuilder();
                int matches = r.nextInt(4);
                for (int m = 0; m < matches; m++) {
                    clause.addMatches(randomMatch(r));
                }
                rule.addClauses(clause);
            }
            b.addRules(rule);
        }
        return b.build();
    }

    private static Match randomMatch(Random r) {
        var m = Match.newBuilder();
        int fields = r.nextInt(4);
        for (int f = 0; f < fields; f++) {
            switch (r.nextInt(12)) {
                case 0 -> m.addNamespaces(randomString(r, new String[] {"a", "b", "c"}));
                case 1 -> m.addNotNamespaces(randomString(r, new String[] {"a", "b"}));
                case 2 -> m.addPrincipals(randomString(r, PRINCIPALS));
                case 3 -> m.addNotPrincipals(randomString(r, PRINCIPALS));
                case 4 -> m.addSourceIps(randomCidr(r));
                case 5 -> m.addNotSourceIps(randomCidr(r));
                case 6 -> m.addDestinationIps(randomCidr(r));
                case 7 -> m.addNotDestinationIps(randomCidr(r));
                case 8 -> m.addDestinationPorts(r.nextBoolean() ? 80 : r.nextBoolean() ? 8080 : 70000);
                case 9 -> m.addNotDestinationPorts(r.nextBoolean() ? 80 : 8080);
                case 10 -> m.addServiceAccounts(randomSa(r));
                default -> m.addNotServiceAccounts(randomSa(r));
            }
        }
        return m.build();
    }

    private static StringMatch randomString(Random r, String[] pool) {
        String v = pool[r.nextInt(pool.length)];
        return switch (r.nextInt(7)) {
            case 0 -> prefix(v.substring(0, r.nextInt(v.length() + 1)));
            case 1 -> suffix(v.substring(r.nextInt(v.length() + 1)));
            case 2 -> presence();
            case 3 -> exact(v + "*"); // can never match an identity
            case 4 -> prefix("*" + v);
            default -> exact(v);
        };
    }

    private static Address randomCidr(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> cidr("10.0.0.0", 8);
            case 1 -> cidr("10.1.0.1", 32);
            case 2 -> cidr("fd00::", 16);
            default -> cidr("192.168.0.0", 16);
        };
    }

    private static ServiceAccountMatch randomSa(Random r) {
        return ServiceAccountMatch.newBuilder()
                .setNamespace(r.nextBoolean() ? "a" : "b")
                .setServiceAccount(r.nextBoolean() ? "x" : "y")
                .build();
    }

    // ---- refused

    static Stream<Arguments> refused() {
        var ok = policy("ns1", "p", Scope.NAMESPACE, Action.ALLOW);
        return Stream.of(
                Arguments.of(
                        "an unknown action", ok.toBuilder().setActionValue(2).build(), "action 2 is unknown"),
                Arguments.of("an unknown scope", ok.toBuilder().setScopeValue(7).build(), "scope 7 is unknown"),
                Arguments.of(
                        "a name other than the resource name",
                        ok.toBuilder().setName("q").build(),
                        "is Authorization ns1/q under another resource name"),
                Arguments.of(
                        "an address of five bytes",
                        ok.toBuilder()
                                .addRules(rule(clause(Match.newBuilder()
                                        .addSourceIps(Address.newBuilder()
                                                .setAddress(ByteString.copyFrom(new byte[5]))
                                                .setLength(8)))))
                                .build(),
                        "rules[0].clauses[0].matches[0].source_ips[0]: address of 5 bytes"),
                Arguments.of(
                        "a prefix longer than the address",
                        ok.toBuilder()
                                .addRules(rule(clause(Match.newBuilder().addDestinationIps(cidr("10.0.0.0", 33)))))
                                .build(),
                        "destination_ips[0]: prefix length 33 for 10.0.0.0 (expected: 0-32)"),
                Arguments.of(
                        "a rule that would expand past the bound",
                        ok.toBuilder().addRules(explosive()).build(),
                        "combinations of matches"));
    }

    /** Five clauses of four mixed matches: 4^5 = 1024 conjunctions. */
    private static Rule explosive() {
        var rule = Rule.newBuilder();
        for (int c = 0; c < 5; c++) {
            var clause = Clause.newBuilder();
            for (int m = 0; m < 4; m++) {
                clause.addMatches(Match.newBuilder().addDestinationPorts(80 + m).addNamespaces(exact("n" + m)));
            }
            rule.addClauses(clause);
        }
        return rule.build();
    }

    @ParameterizedTest(name = "refused: {0}")
    @MethodSource("refused")
    void badAuthorizationsAreRefusedByName(String name, Authorization a, String message) {
        assertThatThrownBy(() -> AuthorizationConverter.convert("ns1/p", a, MESH, 0))
                .isInstanceOf(InvalidResourceException.class)
                .hasMessageStartingWith("ns1/p: ")
                .hasMessageContaining(message);
    }
}
