package io.ambit.policy.load;

import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Finds a key written twice in one mapping. snakeyaml-engine checks duplicate keys only when it
 * constructs objects, and the loaders only compose nodes, where the second value would silently win: a
 * second {@code workloads:} would drop the first list. Each node is visited once, so aliases cannot make
 * the walk expensive; depth is already bounded by {@code YamlDepth}.
 */
public final class DuplicateKeys {
    private DuplicateKeys() {}

    /** Adds an error for every key written twice in a mapping under {@code root}. */
    public static void check(Node root, String file, List<LoadError> errors) {
        walk(root, "", Collections.newSetFromMap(new IdentityHashMap<>()), file, errors);
    }

    private static void walk(Node node, String path, Set<Node> seen, String file, List<LoadError> errors) {
        if (!seen.add(node)) {
            return;
        }
        if (node instanceof MappingNode m) {
            var first = new HashMap<String, Integer>();
            for (var t : m.getValue()) {
                if (!(t.getKeyNode() instanceof ScalarNode k)) {
                    continue;
                }
                String key = k.getValue();
                String at = path.isEmpty() ? key : path + "." + key;
                int line = k.getStartMark().map(mk -> mk.getLine() + 1).orElse(0);
                Integer earlier = first.putIfAbsent(key, line);
                if (earlier != null) {
                    errors.add(new LoadError(
                            file,
                            line,
                            null,
                            at,
                            "is written twice (first at line " + earlier + "; expected: each key once)"));
                }
                walk(t.getValueNode(), at, seen, file, errors);
            }
        } else if (node instanceof SequenceNode s) {
            for (int i = 0; i < s.getValue().size(); i++) {
                walk(s.getValue().get(i), path + "[" + i + "]", seen, file, errors);
            }
        }
    }
}
