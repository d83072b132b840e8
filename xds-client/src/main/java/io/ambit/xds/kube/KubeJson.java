package io.ambit.xds.kube;

import io.ambit.policy.load.YamlDepth;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * The API server's JSON, read with the same YAML engine the mesh file uses (JSON is YAML 1.2), so there is
 * one parser with one set of guards: a nesting limit before parsing, a size limit, no duplicate keys. Objects
 * come out as maps of maps, lists, strings, numbers and booleans.
 */
final class KubeJson {
    private KubeJson() {}

    /** Thrown for text that is not one JSON object within the limits. */
    static final class BadJsonException extends Exception {
        BadJsonException(String message) {
            super(message);
        }
    }

    /**
     * One JSON object.
     *
     * @param what what the text is, for messages ("a watch event of AuthorizationPolicy")
     */
    static Map<String, Object> object(String text, String what) throws BadJsonException {
        if (YamlDepth.tooDeep(text) > 0) {
            throw new BadJsonException(what + " is nested more than " + YamlDepth.MAX_FLOW_DEPTH
                    + " levels (expected: a Kubernetes object, which never nests that deep)");
        }
        var settings = LoadSettings.builder()
                .setLabel(what)
                .setCodePointLimit(Math.max(1, text.length() + 1))
                .setAllowDuplicateKeys(false)
                .setMaxAliasesForCollections(0)
                .build();
        Object o;
        try {
            o = new Load(settings).loadFromString(text);
        } catch (YamlEngineException | StackOverflowError e) {
            throw new BadJsonException(what + " is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (!(o instanceof Map<?, ?> m)) {
            throw new BadJsonException(what + " is "
                    + (o == null ? "empty" : o.getClass().getSimpleName()) + " (expected: a JSON object)");
        }
        String bad = notJson(m, "$", 0);
        if (bad != null) {
            throw new BadJsonException(what + " is not JSON: " + bad);
        }
        return cast(m);
    }

    /**
     * Where the loaded tree holds something JSON cannot: the text is read by a YAML loader, which also
     * builds byte arrays ({@code !!binary}), sets ({@code !!set}) and non-string keys ({@code {1: 2}}) that
     * no reader downstream expects (found by KubeJsonFuzzTest). Null when it is all plain JSON values.
     */
    private static String notJson(Object v, String at, int depth) {
        if (depth > 10_000) {
            return at + " is nested too deeply";
        }
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Number) {
            return null;
        }
        if (v instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                String bad = notJson(l.get(i), at + "[" + i + "]", depth + 1);
                if (bad != null) {
                    return bad;
                }
            }
            return null;
        }
        if (v instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    return at + " has a key that is not a string";
                }
                String bad = notJson(e.getValue(), at + "." + k, depth + 1);
                if (bad != null) {
                    return bad;
                }
            }
            return null;
        }
        return at + " is a YAML " + v.getClass().getSimpleName() + " (expected: a string, number, boolean, null,"
                + " list or object)";
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cast(Map<?, ?> m) {
        for (Object k : m.keySet()) {
            if (!(k instanceof String)) {
                throw new IllegalArgumentException("key " + k + " is not a string");
            }
        }
        return (Map<String, Object>) m;
    }

    /** The map at {@code key}, or an empty map when it is absent or not a map. */
    static Map<String, Object> map(Map<String, Object> m, String key) {
        return m != null && m.get(key) instanceof Map<?, ?> v ? cast(v) : Map.of();
    }

    /** The string at {@code key}, or null when it is absent or not a string. */
    static String string(Map<String, Object> m, String key) {
        return m != null && m.get(key) instanceof String s ? s : null;
    }

    /** The list at {@code key}, or an empty list. */
    static List<?> list(Map<String, Object> m, String key) {
        return m != null && m.get(key) instanceof List<?> l ? l : List.of();
    }

    /** Block-style YAML text of {@code value}: what the mesh-file parser reads. */
    static String yaml(Map<String, Object> value) {
        var settings = DumpSettings.builder()
                .setDefaultFlowStyle(FlowStyle.BLOCK)
                .setWidth(Integer.MAX_VALUE) // never fold a long string: line numbers stay meaningful
                .build();
        return new Dump(settings).dumpToString(new LinkedHashMap<>(value));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
