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
 *
 * <p>Public so that other Ambit loaders (the ztunnel's local mesh file) report errors exactly as the
 * policy loader does; not a general YAML API.
 */
public final class YamlNode {
    /** Nodes one file may expand to: aliases can make a small file huge ("billion laughs"). */
    public static final int MAX_NODES = 4_000_000;

    /** Thrown when a document expands past {@link #MAX_NODES}. */
    public static final class TooLargeException extends RuntimeException {
        TooLargeException() {
            super(
                    "the YAML expands to more than " + MAX_NODES + " nodes (expected: a policy file without "
                            + "exponential alias reuse)",
                    null,
                    false,
                    false);
        }
    }

    /** Shared by every node of one file. */
    public static final class Budget {
        /** A fresh budget of {@link #MAX_NODES} nodes. */
        public Budget() {}

        private int left = MAX_NODES;

        void spend(int n) {
            left -= n;
            if (left < 0) {
                throw new TooLargeException();
            }
        }
    }

    private final Node node;
    private final YamlNode parent;
    /** The key under the parent mapping, or null for a list item (then {@link #index} applies). */
    private final String key;

    private final int index;
    private final Budget budget;
    private String path;

    /**
     * The root of one document.
     *
     * @param path the root's field path (usually empty)
     * @param budget shared by every document of one file
     */
    public YamlNode(Node node, String path, Budget budget) {
        this(node, null, path, -1, budget);
    }

    private YamlNode(Node node, YamlNode parent, String key, int index, Budget budget) {
        this.node = node;
        this.parent = parent;
        this.key = key;
        this.index = index;
        this.budget = budget;
    }

    /** The parsed node, for identity checks (an alias yields the same node twice). */
    public Node raw() {
        return node;
    }

    /** The field path, built only when asked (for an error): most nodes never need one. */
    public String path() {
        if (path == null) {
            if (parent == null) {
                path = key == null ? "" : key;
            } else {
                String p = parent.path();
                path = key != null ? (p.isEmpty() ? key : p + "." + key) : p + "[" + index + "]";
            }
        }
        return path;
    }

    /** The 1-based line where the node starts, or 0 when unknown. */
    public int line() {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    /** Whether the node is YAML null (absent value, {@code ~} or {@code null}). */
    public boolean isNull() {
        return node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    /** Whether the node is a mapping. */
    public boolean isMap() {
        return node instanceof MappingNode;
    }

    /** Whether the node is a sequence. */
    public boolean isList() {
        return node instanceof SequenceNode;
    }

    /** Whether the node is a non-null scalar. */
    public boolean isScalar() {
        return node instanceof ScalarNode && !isNull();
    }

    /** The scalar text as written (quotes removed); callers check {@link #isScalar()} first. */
    public String text() {
        return ((ScalarNode) node).getValue();
    }

    /** How the node reads in an error message: {@code a map}, {@code a list}, {@code null} or the quoted text. */
    public String kindName() {
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
    public Map<String, YamlNode> entries() {
        var out = new LinkedHashMap<String, YamlNode>();
        budget.spend(((MappingNode) node).getValue().size());
        for (var t : ((MappingNode) node).getValue()) {
            String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "<non-scalar key>";
            out.put(key, new YamlNode(t.getValueNode(), this, key, -1, budget));
        }
        return out;
    }

    /** Items of a sequence, in file order. */
    public List<YamlNode> items() {
        var seq = ((SequenceNode) node).getValue();
        budget.spend(seq.size());
        var out = new ArrayList<YamlNode>(seq.size());
        for (int i = 0; i < seq.size(); i++) {
            out.add(new YamlNode(seq.get(i), this, null, i, budget));
        }
        return out;
    }
}
