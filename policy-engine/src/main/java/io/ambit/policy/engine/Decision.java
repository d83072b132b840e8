package io.ambit.policy.engine;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The answer for one connection or request, and why. The sentence is built only when someone reads
 * it (an access log, {@code authz check}), so a proxy that only needs the verdict never formats text.
 */
public final class Decision {
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
        UNCOMPARABLE_VALUE("uncomparable-value"),
        /** A waypoint's local rate limit refused the request after authorization allowed it (429). */
        RATE_LIMIT("rate-limit");

        private final String text;

        Reason(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    private final Verdict verdict;
    private final String provider;
    private final Reason reason;
    private final String policy;
    private final Integer rule;
    private final int httpStatus;
    private final List<String> audit;
    private final String dryRun;
    private Supplier<String> explainer;
    private String explanation;

    /**
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
    public Decision(
            Verdict verdict,
            String provider,
            Reason reason,
            String policy,
            Integer rule,
            int httpStatus,
            String explanation,
            List<String> audit,
            String dryRun) {
        this(verdict, provider, reason, policy, rule, httpStatus, (Supplier<String>) null, audit, dryRun);
        this.explanation = Objects.requireNonNull(explanation, "explanation");
    }

    Decision(
            Verdict verdict,
            String provider,
            Reason reason,
            String policy,
            Integer rule,
            int httpStatus,
            Supplier<String> explainer,
            List<String> audit,
            String dryRun) {
        this.verdict = verdict;
        this.provider = provider;
        this.reason = reason;
        this.policy = policy;
        this.rule = rule;
        this.httpStatus = httpStatus;
        this.explainer = explainer;
        this.audit = audit == null ? List.of() : List.copyOf(audit);
        this.dryRun = dryRun;
    }

    public Verdict verdict() {
        return verdict;
    }

    public String provider() {
        return provider;
    }

    public Reason reason() {
        return reason;
    }

    public String policy() {
        return policy;
    }

    public Integer rule() {
        return rule;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** The sentence; built on first call (idempotent, so a race only builds it twice). */
    public String explanation() {
        String e = explanation;
        if (e == null) {
            e = explainer.get();
            explanation = e;
            explainer = null;
        }
        return e;
    }

    public List<String> audit() {
        return audit;
    }

    public String dryRun() {
        return dryRun;
    }

    public boolean allowed() {
        return verdict == Verdict.ALLOW;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Decision d
                && verdict == d.verdict
                && Objects.equals(provider, d.provider)
                && reason == d.reason
                && Objects.equals(policy, d.policy)
                && Objects.equals(rule, d.rule)
                && httpStatus == d.httpStatus
                && explanation().equals(d.explanation())
                && audit.equals(d.audit)
                && Objects.equals(dryRun, d.dryRun);
    }

    @Override
    public int hashCode() {
        return Objects.hash(verdict, provider, reason, policy, rule, httpStatus, explanation(), audit, dryRun);
    }

    @Override
    public String toString() {
        return "Decision[verdict=" + verdict + ", provider=" + provider + ", reason=" + reason + ", policy=" + policy
                + ", rule=" + rule + ", httpStatus=" + httpStatus + ", explanation=" + explanation() + ", audit="
                + audit + ", dryRun=" + dryRun + "]";
    }
}
