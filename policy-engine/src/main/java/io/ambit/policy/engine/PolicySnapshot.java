package io.ambit.policy.engine;

import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.mesh.MeshConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every policy of the mesh, compiled and indexed for both layers. Immutable: a proxy publishes a new
 * snapshot whole and each decision reads one snapshot; nothing here locks or allocates beyond the
 * decision itself.
 */
public final class PolicySnapshot {
    private final MeshConfig mesh;
    private final Clock clock;
    private final WorkloadIndex<Attached> workloads;
    private final TargetIndex<Attached> targets;
    private final TargetIndex<List<JwtAuthenticator.Attached>> jwt;
    private final PeerAuthIndex peerAuth;
    private final PolicySet source;
    private final List<String> unattached;

    PolicySnapshot(
            MeshConfig mesh,
            Clock clock,
            WorkloadIndex<Attached> workloads,
            TargetIndex<Attached> targets,
            TargetIndex<List<JwtAuthenticator.Attached>> jwt,
            PeerAuthIndex peerAuth,
            PolicySet source,
            List<String> unattached) {
        this.mesh = mesh;
        this.clock = clock;
        this.workloads = workloads;
        this.targets = targets;
        this.jwt = jwt;
        this.peerAuth = peerAuth;
        this.source = source;
        this.unattached = unattached;
    }

    /** A snapshot with no policies: everything is allowed, as in a mesh without policies. */
    public static PolicySnapshot empty(MeshConfig mesh) {
        return PolicyCompiler.compile(PolicySet.EMPTY, mesh);
    }

    /** The destination ztunnel's decision for a new connection (authz-semantics §2.10, §3). */
    public Decision decideL4(AccessRequest request) {
        return L4Decider.decide(this, request);
    }

    /**
     * Attaches this snapshot's L4 policies to one workload, for a proxy to keep with the workload until
     * the next snapshot.
     */
    public WorkloadPolicies attach(AccessRequest.Destination destination) {
        return new WorkloadPolicies(this, destination);
    }

    /**
     * The destination ztunnel's decision with policies attached beforehand by {@link #attach}; the
     * request's own destination is not looked at again.
     *
     * @throws IllegalArgumentException when {@code policies} came from another snapshot
     */
    public Decision decideL4(WorkloadPolicies policies, AccessRequest request) {
        if (policies.snapshot != this) {
            throw new IllegalArgumentException(
                    "WorkloadPolicies belong to another snapshot (expected: attach() on this one)");
        }
        return L4Decider.decide(policies, request);
    }

    /** The waypoint's decision for one HTTP request (authz-semantics §2.2, §4). */
    public Decision decideL7(AccessRequest request) {
        return L7Decider.decide(this, request);
    }

    public MeshConfig mesh() {
        return mesh;
    }

    /** The policies this snapshot was compiled from. */
    public PolicySet policies() {
        return source;
    }

    /**
     * Policies that no enforcement point uses: CUSTOM or AUDIT without targetRefs (ztunnel ignores them),
     * or targetRefs that can never match. Worth a warning to the author.
     */
    public List<String> unenforced() {
        return unattached;
    }

    Clock clock() {
        return clock;
    }

    WorkloadIndex<Attached> workloads() {
        return workloads;
    }

    TargetIndex<Attached> targets() {
        return targets;
    }

    /**
     * The jwtRules of every RequestAuthentication attached to a destination (its Service, its waypoint, and
     * the {@code istio-waypoint} GatewayClass), merged in that order without repeats: what a waypoint
     * verifies tokens against, so it verifies with exactly the rules this snapshot judges with.
     */
    public List<JwtRule> jwtRules(AccessRequest.Destination d) {
        var out = new ArrayList<JwtRule>();
        for (var bucket : Arrays.asList(
                jwt.service(d.namespace(), d.service()),
                jwt.gateway(d.waypointNamespace(), d.waypoint()),
                jwt.allWaypoints())) {
            if (bucket != null) {
                for (var a : bucket) {
                    if (!out.contains(a.rule())) {
                        out.add(a.rule());
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    TargetIndex<List<JwtAuthenticator.Attached>> jwt() {
        return jwt;
    }

    PeerAuthIndex peerAuth() {
        return peerAuth;
    }
}
