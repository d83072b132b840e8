package io.ambit.policy.engine;

import io.ambit.policy.crd.MtlsMode;
import io.ambit.policy.engine.Decision.Reason;

/**
 * The destination ztunnel's decision for a new connection: PeerAuthentication (STRICT refuses
 * plaintext), then DENY, then ALLOW, over the policies attached to the destination workload.
 */
final class L4Decider {
    private L4Decider() {}

    static Decision decide(PolicySnapshot s, AccessRequest r) {
        return decide(new WorkloadPolicies(s, r.destination()), r);
    }

    /** Decides with policies attached beforehand; {@code w.destination()} is the target. */
    static Decision decide(WorkloadPolicies w, AccessRequest r) {
        var s = w.snapshot;
        var dest = w.destination;
        var labels = dest.labels();
        var c = new EvalContext(r, null, s.clock(), s.mesh().timeZone());

        // 1. PeerAuthentication: STRICT is enforced as a DENY of connections without a peer identity.
        var mtls = s.peerAuth().resolve(dest.namespace(), labels, r.destinationPort());
        if (mtls.strict() && r.peer() == null) {
            return Explain.deny(
                    Reason.PEER_AUTHENTICATION,
                    mtls.policy(),
                    403,
                    "denied by PeerAuthentication "
                            + mtls.policy() + ": mode STRICT"
                            + (mtls.portLevel() ? " on port " + r.destinationPort() : "")
                            + " requires mutual TLS and the connection is plaintext");
        }

        Object[] buckets = w.buckets;
        int n = w.n;

        // 2. DENY, 3. ALLOW
        var deny = Phase.best(buckets, n, Phase.DENY, labels, c);
        if (deny != null) {
            return finish(Explain.matched(deny, java.util.List.of(), Explain.dryRun(buckets, n, labels, c)));
        }
        var allow = Phase.best(buckets, n, Phase.ALLOW, labels, c);
        if (allow != null) {
            return finish(Explain.matched(allow, java.util.List.of(), Explain.dryRun(buckets, n, labels, c)));
        }
        String dryRun = Explain.dryRun(buckets, n, labels, c);
        String target = dest.describe(false);
        if (Phase.count(buckets, n, Phase.ALLOW, labels) == 0) {
            var d = Explain.noAllowPolicies(target, java.util.List.of(), dryRun);
            if (mtls.mode() == MtlsMode.DISABLE) {
                d = new Decision(
                        d.verdict(),
                        null,
                        d.reason(),
                        null,
                        null,
                        0,
                        d.explanation() + " (PeerAuthentication " + mtls.policy()
                                + " says DISABLE, which ambient treats as PERMISSIVE)",
                        d.audit(),
                        d.dryRun());
            }
            return finish(d);
        }
        return finish(Explain.noAllowMatched(buckets, n, labels, target, java.util.List.of(), dryRun));
    }

    private static Decision finish(Decision d) {
        return Explain.withDryRunText(d);
    }
}
