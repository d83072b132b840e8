package io.ambit.policy.engine;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.mesh.MeshConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Turns a validated {@link PolicySet} into an immutable {@link PolicySnapshot}: every matcher compiled
 * once, every policy placed in the index of each layer that enforces it. Runs on the control thread; the
 * data path only reads the result.
 */
public final class PolicyCompiler {
    private PolicyCompiler() {}

    public static PolicySnapshot compile(PolicySet set, MeshConfig mesh) {
        return compile(set, mesh, Clock.systemUTC());
    }

    /** @param clock read by extended time conditions when a request carries no time */
    public static PolicySnapshot compile(PolicySet set, MeshConfig mesh, Clock clock) {
        var root = mesh.rootNamespace();
        var bundle = new TrustDomainBundle(mesh.trustDomain(), mesh.trustDomainAliases());
        var l7 = new L7Compiler(bundle, mesh.extendedConditions());

        var sorted = new ArrayList<>(set.authorizationPolicies());
        sorted.sort(Comparator.comparing((AuthorizationPolicy p) -> p.meta().namespace())
                .thenComparing(p -> p.meta().name()));

        var workloads = new WorkloadIndex.Builder<CompiledPolicy, Attached>(root);
        var targets = new TargetIndex.Builder<CompiledPolicy, Attached>(root);
        var unattached = new ArrayList<String>();
        for (int rank = 0; rank < sorted.size(); rank++) {
            var p = sorted.get(rank);
            if (!p.targetRefs().isEmpty()) {
                // Waypoints only: ztunnel never receives targetRefs policies.
                var c = new CompiledPolicy(
                        p.meta().ref(), p.action(), p.provider(), p.dryRun(), rank, l7.rules(p), null, null, null);
                if (!targets.add(p.meta(), p.targetRefs(), c)) {
                    unattached.add(p.meta().ref());
                }
            } else if (p.action() == Action.ALLOW || p.action() == Action.DENY) {
                // ztunnel only: waypoints ignore selector and namespace-wide policies; CUSTOM and AUDIT
                // are never sent to ztunnel.
                var r = L4Compiler.compile(p);
                var c = new CompiledPolicy(
                        p.meta().ref(),
                        p.action(),
                        null,
                        p.dryRun(),
                        rank,
                        r.groups(),
                        r.ruleIndex(),
                        r.note(),
                        p.selector().isEmpty() ? null : p.selector());
                workloads.add(p.meta().namespace(), p.selector(), c);
            } else {
                unattached.add(p.meta().ref());
            }
        }

        var jwt = new TargetIndex.Builder<JwtAuthenticator.Attached, List<JwtAuthenticator.Attached>>(root);
        for (var ra : set.requestAuthentications()) {
            for (var rule : ra.jwtRules()) {
                jwt.add(
                        ra.meta(),
                        ra.targetRefs(),
                        new JwtAuthenticator.Attached(ra.meta().ref(), rule));
            }
        }

        return new PolicySnapshot(
                mesh,
                clock,
                workloads.build(Attached::new),
                targets.build(Attached::new),
                jwt.build(List::copyOf),
                new PeerAuthIndex(set.peerAuthentications(), root),
                set,
                List.copyOf(unattached));
    }
}
