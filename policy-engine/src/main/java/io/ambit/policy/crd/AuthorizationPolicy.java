package io.ambit.policy.crd;

import java.util.List;

/**
 * A validated {@code security.istio.io} AuthorizationPolicy.
 *
 * @param selector   never null; {@link Selector#NONE} when absent
 * @param targetRefs empty when absent; never set together with a non-empty selector
 * @param provider   the CUSTOM provider name, or null
 * @param rules      empty when absent
 */
public record AuthorizationPolicy(
        PolicyMeta meta,
        Selector selector,
        List<TargetRef> targetRefs,
        Action action,
        String provider,
        List<Rule> rules) {

    public static final String DRY_RUN_ANNOTATION = "istio.io/dry-run";

    /**
     * The annotation is parsed as a Go boolean; anything unparsable is "not dry-run" (authz-semantics
     * §2.12).
     */
    public boolean dryRun() {
        String v = meta.annotation(DRY_RUN_ANNOTATION);
        return v != null
                && switch (v) {
                    case "1", "t", "T", "TRUE", "true", "True" -> true;
                    default -> false;
                };
    }
}
