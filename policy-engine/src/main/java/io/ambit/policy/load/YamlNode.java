package io.ambit.policy.load;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * A composed YAML node that knows its field path and line, so every reader error can name both. Only
 * the node graph is built (no object construction), so hostile YAML cannot instantiate anything.
 */
final class YamlNode {
    private final Node node;
    private final String path;

    YamlNode(Node node, String path) {
        this.node = node;
        this.path = path;
    }

    String path() {
        return path;
    }

    int line() {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    boolean isNull() {
        return node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    boolean isMap() {
        return node instanceof MappingNode;
    }

    boolean isList() {
        return node instanceof SequenceNode;
    }

    boolean isScalar() {
        return node instanceof ScalarNode && !isNull();
    }

    /** The scalar text as written (quotes removed); callers check {@link #isScalar()} first. */
    String text() {
        return ((ScalarNode) node).getValue();
    }

    String kindName() {
        if (isNull()) {
            return "null";
        }
        if (isMap()) {
            return "a map";
        }
        if (isList()) {
            return "a list";
        }
        return "\"" + text() + "\"";
    }

    /** Entries of a mapping in file order; non-scalar keys are reported with a synthetic name. */
    Map<String, YamlNode> entries() {
        var out = new LinkedHashMap<String, YamlNode>();
        for (var t : ((MappingNode) node).getValue()) {
            String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "<non-scalar key>";
            out.put(key, new YamlNode(t.getValueNode(), path.isEmpty() ? key : path + "." + key));
        }
        return out;
    }

    List<YamlNode> items() {
        var seq = ((SequenceNode) node).getValue();
        var out = new ArrayList<YamlNode>(seq.size());
        for (int i = 0; i < seq.size(); i++) {
            out.add(new YamlNode(seq.get(i), path + "[" + i + "]"));
        }
        return out;
    }
}
