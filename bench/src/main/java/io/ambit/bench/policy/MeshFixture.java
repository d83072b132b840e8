package io.ambit.bench.policy;

import static io.ambit.policy.crd.Action.ALLOW;
import static io.ambit.policy.crd.Action.DENY;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.MtlsMode;
import io.ambit.policy.crd.PeerAuthentication;
import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Selector;
import io.ambit.policy.crd.TargetRef;
import io.ambit.policy.load.LoadResult;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.MeshConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * A deterministic mesh of AuthorizationPolicies with {@value #RULES} rules each, shaped after ztunnel's
 * RBAC benchmark (10,000 policies × 10 rules) but spread the way a real mesh is: {@value
 * #POLICIES_PER_NAMESPACE} policies per namespace, over as many namespaces as it takes.
 *
 * <p>Every namespace holds the same ten kinds of policy (its slots), with rules drawn from a
 * {@link Random} seeded by {@link #SEED} and the namespace's index:
 *
 * <pre>
 * slot  name            attaches by              action  enforced by
 *  0    deny-blocklist  namespace-wide           DENY    ztunnel   (ipBlocks, identities on admin ports)
 *  1    allow-partners  namespace-wide           ALLOW   ztunnel   (principals, namespaces, ipBlocks, ports)
 *  2    api-allow       selector app=api         ALLOW   ztunnel   (rule 9 admits the client; rule 3 is HTTP, dropped)
 *  3    web-allow       selector app=web         ALLOW   ztunnel
 *  4    db-deny         selector app=db          DENY    ztunnel
 *  5    api-http-allow  targetRefs Service api   ALLOW   waypoint  (methods, paths, hosts, headers; rule 9 admits the client)
 *  6    web-http-allow  targetRefs Service web   ALLOW   waypoint
 *  7    api-http-deny   targetRefs Service api   DENY    waypoint
 *  8    waypoint-allow  targetRefs Gateway       ALLOW   waypoint
 *  9    waypoint-deny   targetRefs Gateway       DENY    waypoint
 * </pre>
 *
 * <p>On top of the {@code N} namespace policies the root namespace holds two mesh-wide ones that
 * every decision walks: an ipBlocks block list (ztunnel) and a scanner block list attached to the
 * {@code istio-waypoint} GatewayClass (every waypoint); plus a mesh-wide STRICT PeerAuthentication
 * and, in every fourth namespace, a workload PeerAuthentication with a port exception.
 *
 * <p>Namespace 0 ({@link #TARGET_NAMESPACE}) is identical in every mesh size, so the requests of
 * {@link Requests} walk the same attached policies whether the mesh holds 10 or 10,000 policies: any
 * change in decision time across sizes is the cost of the mesh, not of the target.
 */
public final class MeshFixture {
    public static final long SEED = 0x5EED_A11BL;
    public static final int RULES = 10;
    public static final int POLICIES_PER_NAMESPACE = 10;
    /** Mesh-wide AuthorizationPolicies added to every mesh, on top of the namespace policies. */
    public static final int MESH_WIDE_POLICIES = 2;

    /** Declared before the names built from it. */
    private static final String[] TEAMS = {
        "payments", "orders", "search", "catalog", "billing", "identity", "ledger", "shipping", "inventory", "checkout"
    };

    public static final MeshConfig MESH = MeshConfig.DEFAULT;
    public static final String ROOT = MESH.rootNamespace();
    public static final String TARGET_NAMESPACE = namespaceName(0);
    public static final String WAYPOINT = "waypoint";

    private final int namespacePolicies;
    private final PolicySet policies;
    private String yaml;

    private MeshFixture(int namespacePolicies, PolicySet policies) {
        this.namespacePolicies = namespacePolicies;
        this.policies = policies;
    }

    /** A mesh of {@code namespacePolicies} namespace policies plus the {@value #MESH_WIDE_POLICIES} mesh-wide ones. */
    public static MeshFixture generate(int namespacePolicies) {
        if (namespacePolicies < 1) {
            throw new IllegalArgumentException("namespacePolicies: " + namespacePolicies + " (expected: > 0)");
        }
        var gen = new Generator();
        gen.meshWide();
        int namespaces = (namespacePolicies + POLICIES_PER_NAMESPACE - 1) / POLICIES_PER_NAMESPACE;
        for (int ns = 0; ns < namespaces; ns++) {
            int slots = Math.min(POLICIES_PER_NAMESPACE, namespacePolicies - ns * POLICIES_PER_NAMESPACE);
            gen.namespace(ns, slots);
        }
        return new MeshFixture(namespacePolicies, new PolicySet(gen.authz, gen.peer, List.of()));
    }

    public static String namespaceName(int index) {
        return TEAMS[index % TEAMS.length] + "-" + index;
    }

    /** The policies as records, built directly (not through the loader). */
    public PolicySet policySet() {
        return policies;
    }

    /** The same policies as one multi-document YAML file, rendered once on first use. */
    public String yaml() {
        if (yaml == null) {
            yaml = PolicyYaml.render(policies);
        }
        return yaml;
    }

    /** Loads {@link #yaml()} as the CLI and proxies do: parse, validate, keep the valid objects. */
    public LoadResult load() {
        return new PolicyLoader(MESH.extendedConditions())
                .text(yaml(), "mesh-" + namespacePolicies + ".yaml")
                .result();
    }

    public int namespacePolicies() {
        return namespacePolicies;
    }

    public int authorizationPolicies() {
        return policies.authorizationPolicies().size();
    }

    public int rules() {
        return policies.authorizationPolicies().stream()
                .mapToInt(p -> p.rules().size())
                .sum();
    }

    /** Collects objects in load order. */
    private static final class Generator {
        final List<AuthorizationPolicy> authz = new ArrayList<>();
        final List<PeerAuthentication> peer = new ArrayList<>();
        private long order;

        void meshWide() {
            var r = new Random(SEED);
            peer.add(new PeerAuthentication(meta("default", ROOT), Selector.NONE, MtlsMode.STRICT, Map.of()));
            authz.add(policy("mesh-blocklist", ROOT, Selector.NONE, List.of(), DENY, i -> Rules.blockList(r)));
            var allWaypoints = new TargetRef(TargetRef.GATEWAY_API, "GatewayClass", TargetRef.WAYPOINT_CLASS, null);
            authz.add(policy(
                    "waypoint-scanners", ROOT, Selector.NONE, List.of(allWaypoints), DENY, i -> Rules.l7Deny(r, ROOT)));
        }

        void namespace(int index, int slots) {
            // Seeded per namespace: namespace 0 is the same in every mesh size.
            var r = new Random(SEED + index * 0x9E3779B97F4A7C15L);
            String ns = namespaceName(index);
            var none = Selector.NONE;
            List<TargetRef> noRefs = List.of();
            var api = List.of(service("api"));
            var web = List.of(service("web"));
            var waypoint = List.of(new TargetRef(TargetRef.GATEWAY_API, "Gateway", WAYPOINT, null));
            for (int slot = 0; slot < slots; slot++) {
                authz.add(
                        switch (slot) {
                            case 0 -> policy("deny-blocklist", ns, none, noRefs, DENY, i -> Rules.l4Deny(r));
                            case 1 -> policy("allow-partners", ns, none, noRefs, ALLOW, i -> Rules.l4Allow(r));
                            case 2 -> policy("api-allow", ns, app("api"), noRefs, ALLOW, i -> apiAllowRule(r, i));
                            case 3 -> policy("web-allow", ns, app("web"), noRefs, ALLOW, i -> Rules.l4Allow(r));
                            case 4 -> policy("db-deny", ns, app("db"), noRefs, DENY, i -> Rules.l4Deny(r));
                            case 5 -> policy("api-http-allow", ns, none, api, ALLOW, i -> apiHttpRule(r, ns, i));
                            case 6 -> policy("web-http-allow", ns, none, web, ALLOW, i -> Rules.l7Allow(r, ns, "web"));
                            case 7 -> policy("api-http-deny", ns, none, api, DENY, i -> Rules.l7Deny(r, ns));
                            case 8 ->
                                policy("waypoint-allow", ns, none, waypoint, ALLOW, i -> Rules.l7Allow(r, ns, "api"));
                            default -> policy("waypoint-deny", ns, none, waypoint, DENY, i -> Rules.l7Deny(r, ns));
                        });
            }
            if (index % 4 == 0) {
                peer.add(new PeerAuthentication(
                        meta("db-metrics-port", ns), app("db"), MtlsMode.STRICT, Map.of(9102, MtlsMode.PERMISSIVE)));
            }
        }

        /** Rule 9 admits the client; rule 3 uses HTTP attributes and is dropped at L4. */
        private static Rule apiAllowRule(Random r, int i) {
            return i == RULES - 1 ? Rules.clientL4(r) : i == 3 ? Rules.l4WithHttp(r) : Rules.l4Allow(r);
        }

        /** Rule 9 admits the client. */
        private static Rule apiHttpRule(Random r, String ns, int i) {
            return i == RULES - 1 ? Rules.clientL7(ns) : Rules.l7Allow(r, ns, "api");
        }

        private AuthorizationPolicy policy(
                String name,
                String ns,
                Selector selector,
                List<TargetRef> refs,
                Action action,
                IntFunction<Rule> rule) {
            var rules = new ArrayList<Rule>(RULES);
            for (int i = 0; i < RULES; i++) {
                rules.add(rule.apply(i));
            }
            return new AuthorizationPolicy(meta(name, ns), selector, refs, action, null, List.copyOf(rules));
        }

        private PolicyMeta meta(String name, String ns) {
            return new PolicyMeta(name, ns, Map.of(), null, order++, "MeshFixture");
        }

        private static Selector app(String app) {
            return new Selector(Map.of("app", app));
        }

        private static TargetRef service(String name) {
            return new TargetRef("", "Service", name, null);
        }
    }
}
