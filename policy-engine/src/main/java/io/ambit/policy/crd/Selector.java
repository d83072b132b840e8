package io.ambit.policy.crd;

import java.util.Map;

/**
 * {@code selector.matchLabels}. An empty selector selects every workload of its scope, exactly like an
 * absent one (authz-semantics §1).
 */
public record Selector(Map<String, String> matchLabels) {
    public static final Selector NONE = new Selector(Map.of());

    public Selector {
        matchLabels = Map.copyOf(matchLabels);
    }

    public boolean isEmpty() {
        return matchLabels.isEmpty();
    }

    /** Subset match: every selector label is present on the workload with the same value. */
    public boolean matches(Map<String, String> labels) {
        for (var e : matchLabels.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
