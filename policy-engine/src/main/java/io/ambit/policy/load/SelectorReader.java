package io.ambit.policy.load;

import io.ambit.policy.crd.Selector;
import java.util.Set;

/** {@code selector.matchLabels}, validated as istiod validates workload selectors. */
final class SelectorReader {
    private static final Set<String> SELECTOR = Set.of("matchLabels");

    private SelectorReader() {}

    static Selector read(YamlNode selNode, Problems p) {
        if (selNode == null || selNode.isNull()) {
            return Selector.NONE;
        }
        var labelsNode = Fields.map(selNode, p, SELECTOR).get("matchLabels");
        var labels = Fields.stringMap(labelsNode, p);
        for (var e : labels.entrySet()) {
            if (e.getKey().isEmpty()) {
                p.at(labelsNode, "has an empty label key (expected: a Kubernetes label name)");
            } else if (e.getKey().indexOf('*') >= 0 || e.getValue().indexOf('*') >= 0) {
                p.at(
                        labelsNode,
                        "." + e.getKey(),
                        "uses a wildcard (expected: exact label values; selectors do not " + "support '*')");
            }
        }
        return new Selector(labels);
    }
}
