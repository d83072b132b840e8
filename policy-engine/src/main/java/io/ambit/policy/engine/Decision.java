package io.ambit.policy.engine;

import java.util.List;

/**
 * The answer for one connection or request, and why.
 *
 * @param verdict     ALLOW, DENY, or CUSTOM (the request waits on an external authorizer)
 * @param provider    the CUSTOM provider to ask, when the verdict is CUSTOM
 * @param reason      which stage decided
 * @param policy      {@code namespace/name} of the deciding policy, or null when none matched
 * @param rule        index of the deciding rule within that policy, or null
 * @param httpStatus  the status a waypoint answers with when denying (403, 401, 400), 0 when allowed
 * @param explanation one sentence for people
 * @param audit       AUDIT policies that matched (never part of the decision)
 * @param dryRun      what enforced dry-run policies would have done, for rollouts
 */
public record Decision(
        Verdict verdict,
        String provider,
        Reason reason,
        String policy,
        Integer rule,
        int httpStatus,
        String explanation,
        List<String> audit,
        String dryRun) {

    /** The outcome. */
    public enum Verdict {
        ALLOW,
        DENY,
        CUSTOM
    }

    /** The stage that decided, as printed by {@code ambit authz check}. */
    public enum Reason {
        AUTHZ("authz"),
        JWT("jwt"),
        PEER_AUTHENTICATION("peer-authentication"),
        EXT_AUTHZ("ext-authz"),
        BAD_REQUEST("bad-request"),
        UNCOMPARABLE_VALUE("uncomparable-value");

        private final String text;

        Reason(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    public Decision {
        audit = audit == null ? List.of() : List.copyOf(audit);
    }

    public boolean allowed() {
        return verdict == Verdict.ALLOW;
    }
}
