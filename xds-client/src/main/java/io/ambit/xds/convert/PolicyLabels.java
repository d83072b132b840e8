package io.ambit.xds.convert;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How istiod's already-resolved policy attachment reaches a policy engine that attaches by labels.
 *
 * <p>istiod does not send workload labels; it resolves each AuthorizationPolicy selector itself and lists
 * the selected policies in the workload's {@code authorization_policies}. The policy engine attaches
 * selector policies by labels. So the converter gives each xDS workload one synthetic label per listed
 * policy ({@value #POLICY_PREFIX}{@code <namespace>/<name>: selected}), and each WORKLOAD_SELECTOR
 * Authorization a selector on exactly that label: the engine then attaches precisely the policies istiod
 * listed. The label prefix is a domain Ambit owns, so no Kubernetes label can collide with it.
 *
 * <p>The workload's namespace is labelled too ({@value #NAMESPACE_LABEL}), for the one shape the engine's
 * namespace attachment cannot express: a NAMESPACE-scoped Authorization in the root namespace (the engine
 * would apply it mesh-wide; ztunnel applies it to that namespace only).
 *
 * <p>{@code app} and {@code version} carry the canonical name and revision, which is what ztunnel reports
 * as {@code *_app} and {@code *_version} in its metrics; nothing attaches by them in xDS mode, where every
 * selector is synthetic.
 */
public final class PolicyLabels {
    /** Prefix of the label naming one selected policy. */
    public static final String POLICY_PREFIX = "authorization.xds.ambit.io/";

    /** The label holding the workload's namespace. */
    public static final String NAMESPACE_LABEL = "namespace.xds.ambit.io/name";

    /** The value of every policy label. */
    public static final String SELECTED = "selected";

    private PolicyLabels() {}

    /** The label that selects a workload for the policy {@code namespace/name}. */
    public static String policyLabel(String policyKey) {
        return POLICY_PREFIX + policyKey;
    }

    /** The labels of an xDS workload. */
    static Map<String, String> of(
            String namespace, String canonicalName, String canonicalRevision, List<String> policyKeys) {
        var labels = new HashMap<String, String>(policyKeys.size() * 2 + 6);
        labels.put(NAMESPACE_LABEL, namespace);
        if (!canonicalName.isEmpty()) {
            labels.put("app", canonicalName);
        }
        if (!canonicalRevision.isEmpty()) {
            labels.put("version", canonicalRevision);
        }
        for (var key : policyKeys) {
            labels.put(policyLabel(key), SELECTED);
        }
        return labels;
    }
}
