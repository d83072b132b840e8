package io.ambit.policy.load;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed reads of YAML nodes that record a precise problem instead of throwing. Public for other Ambit
 * loaders, so that every file reports errors the same way.
 */
public final class Fields {
    private Fields() {}

    /**
     * A mapping whose keys must be among {@code allowed}. An absent or null node reads as an empty map.
     * Unknown keys are errors: a misspelt field (matchLabel, notPrincipal) would otherwise silently widen
     * or narrow a policy.
     */
    public static Map<String, YamlNode> map(YamlNode n, Problems p, Set<String> allowed) {
        if (n == null || n.isNull()) {
            return Map.of();
        }
        if (!n.isMap()) {
            p.at(n, "is " + n.kindName() + " (expected: a map)");
            return Map.of();
        }
        var entries = n.entries();
        if (allowed != null) {
            for (var e : entries.entrySet()) {
                if (!allowed.contains(e.getKey())) {
                    p.at(e.getValue(), "unknown field (expected one of: " + String.join(", ", sorted(allowed)) + ")");
                }
            }
        }
        return entries;
    }

    /** A scalar as text; null when absent or null. */
    public static String string(YamlNode n, Problems p) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isScalar()) {
            p.at(n, "is " + n.kindName() + " (expected: a string)");
            return null;
        }
        return n.text();
    }

    /** A required non-empty string. */
    public static String required(YamlNode parent, Map<String, YamlNode> fields, String key, Problems p) {
        var n = fields.get(key);
        String s = string(n, p);
        if (n == null || n.isNull()) {
            p.at(parent, "." + key, "is missing (expected: a non-empty string)");
        } else if (s != null && s.isEmpty()) {
            p.at(n, "is empty (expected: a non-empty string)");
        }
        return s;
    }

    /** {@code true} or {@code false}; absent reads as false. */
    public static boolean bool(YamlNode n, Problems p) {
        String s = string(n, p);
        if (s == null) {
            return false;
        }
        return switch (s) {
            case "true", "True", "TRUE" -> true;
            case "false", "False", "FALSE" -> false;
            default -> {
                p.at(n, "is \"" + s + "\" (expected: true or false)");
                yield false;
            }
        };
    }

    /**
     * A list of non-empty strings; null when absent. Istio rejects empty strings in every value list
     * (authz-semantics §2.1).
     */
    public static List<String> stringListOrNull(YamlNode n, Problems p) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isList()) {
            p.at(n, "is " + n.kindName() + " (expected: a list of strings)");
            return List.of();
        }
        var out = new ArrayList<String>();
        for (var item : n.items()) {
            if (!item.isScalar()) {
                p.at(item, "is " + item.kindName() + " (expected: a non-empty string)");
            } else if (item.text().isEmpty()) {
                p.at(item, "is empty (expected: a non-empty string)");
            } else {
                out.add(item.text());
            }
        }
        return List.copyOf(out);
    }

    /** A list of non-empty strings; empty when absent. */
    public static List<String> stringList(YamlNode n, Problems p) {
        var l = stringListOrNull(n, p);
        return l == null ? List.of() : l;
    }

    /** The items of a list; null when absent. */
    public static List<YamlNode> listOrNull(YamlNode n, Problems p) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isList()) {
            p.at(n, "is " + n.kindName() + " (expected: a list)");
            return List.of();
        }
        return n.items();
    }

    /** A map of scalar values, in file order; empty when absent. */
    public static Map<String, String> stringMap(YamlNode n, Problems p) {
        var out = new LinkedHashMap<String, String>();
        for (var e : map(n, p, null).entrySet()) {
            String v = string(e.getValue(), p);
            if (v != null) {
                out.put(e.getKey(), v);
            }
        }
        return out;
    }

    private static List<String> sorted(Set<String> s) {
        var l = new ArrayList<>(s);
        l.sort(null);
        return l;
    }
}
