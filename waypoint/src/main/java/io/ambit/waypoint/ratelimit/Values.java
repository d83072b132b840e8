package io.ambit.waypoint.ratelimit;

import io.ambit.policy.load.Fields;
import io.ambit.policy.load.Problems;
import io.ambit.policy.load.YamlNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Typed reads of rate-limit settings that record a precise problem instead of throwing. */
final class Values {
    private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");

    private Values() {}

    /**
     * A map whose keys are read as Envoy's JSON reads them: {@code snake_case} or {@code lowerCamelCase}
     * (the key comes back in snake_case); unknown keys are errors naming what is supported, and keys of
     * features Ambit does not implement are errors that say so.
     */
    static Map<String, YamlNode> envoyMap(
            YamlNode n, Problems p, List<String> supported, Map<String, String> unsupported) {
        var out = new LinkedHashMap<String, YamlNode>();
        for (var e : Fields.map(n, p, null).entrySet()) {
            String key = snake(e.getKey());
            if (supported.contains(key)) {
                out.put(key, e.getValue());
            } else if (unsupported.containsKey(key)) {
                p.at(e.getValue(), "is not supported by Ambit's local rate limit (" + unsupported.get(key) + ")");
            } else {
                p.at(e.getValue(), "unknown field (expected one of: " + String.join(", ", supported) + ")");
            }
        }
        return out;
    }

    static String snake(String key) {
        var sb = new StringBuilder(key.length() + 4);
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isUpperCase(c)) {
                sb.append('_').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A whole number in {@code [min, max]}; {@code dflt} when absent. */
    static long number(YamlNode n, Problems p, long min, long max, long dflt, String expected) {
        if (n == null || n.isNull()) {
            return dflt;
        }
        String s = Fields.string(n, p);
        if (s == null) {
            return dflt;
        }
        try {
            long v = Long.parseLong(s.strip());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        p.at(n, "is \"" + s + "\" (expected: " + expected + ")");
        return dflt;
    }

    /** A protobuf JSON duration ({@code 60s}, {@code 0.5s}); {@code ms}, {@code m}, {@code h} are accepted too. */
    static Duration duration(YamlNode n, Problems p, Duration min, String expected) {
        String s = Fields.string(n, p);
        if (s == null) {
            return null;
        }
        var m = DURATION.matcher(s.strip());
        if (m.matches()) {
            BigDecimal v = new BigDecimal(m.group(1));
            BigDecimal nanos =
                    switch (m.group(2)) {
                        case "ms" -> v.movePointRight(6);
                        case "s" -> v.movePointRight(9);
                        case "m" -> v.multiply(BigDecimal.valueOf(60_000_000_000L));
                        default -> v.multiply(BigDecimal.valueOf(3_600_000_000_000L));
                    };
            if (nanos.compareTo(BigDecimal.valueOf(min.toNanos())) >= 0
                    && nanos.compareTo(BigDecimal.valueOf(Duration.ofDays(1).toNanos())) <= 0) {
                return Duration.ofNanos(nanos.longValue());
            }
        }
        p.at(n, "is \"" + s + "\" (expected: " + expected + ")");
        return null;
    }

    static boolean bool(YamlNode n, Problems p) {
        return n != null && !n.isNull() && Fields.bool(n, p);
    }

    /** A header name a limit may write, lower-case; null (with a problem) otherwise. */
    static String headerName(YamlNode at, String name, Problems p) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        if (n.isEmpty() || !n.matches("[a-z0-9!#$%&'*+.^_`|~-]+")) {
            p.at(at, "is \"" + name + "\", which is not a header name (expected: a token such as x-local-rate-limit)");
            return null;
        }
        return n;
    }

    static boolean safeValue(String v) {
        return v.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c != 0x7f));
    }

    /** Envoy's {@code repeated HeaderValueOption}: {@code [{header: {key, value}, append?, append_action?}]}. */
    static List<Map.Entry<String, String>> headerOptions(YamlNode n, Problems p) {
        var out = new ArrayList<Map.Entry<String, String>>();
        var items = Fields.listOrNull(n, p);
        if (items == null) {
            return out;
        }
        for (var item : items) {
            var f = envoyMap(item, p, List.of("header", "append", "append_action", "keep_empty_value"), Map.of());
            var h = envoyMap(f.get("header"), p, List.of("key", "value"), Map.of());
            if (!h.containsKey("key")) {
                p.at(item, ".header.key", "is missing (expected: the header name)");
                continue;
            }
            String key = headerName(h.get("key"), Fields.string(h.get("key"), p), p);
            String value = h.containsKey("value") ? Fields.string(h.get("value"), p) : "";
            if (value != null && !safeValue(value)) {
                p.at(h.get("value"), "has a control character (expected: a header value on one line)");
            } else if (key != null && value != null) {
                out.add(Map.entry(key, value));
            }
            bool(f.get("append"), p);
            bool(f.get("keep_empty_value"), p);
        }
        return out;
    }
}
