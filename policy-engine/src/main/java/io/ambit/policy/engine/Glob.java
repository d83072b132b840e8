package io.ambit.policy.engine;

/**
 * A {@code *} glob where every {@code *} matches any run of characters: how Envoy reads L7
 * {@code namespaces} values (Istio turns them into {@code .*} regular expressions). Matched greedily
 * in linear time, without regular expressions.
 */
final class Glob {
    private final String[] parts;
    private final boolean anchoredStart;
    private final boolean anchoredEnd;

    Glob(String pattern) {
        this.parts = pattern.split("\\*", -1);
        this.anchoredStart = !pattern.startsWith("*");
        this.anchoredEnd = !pattern.endsWith("*");
    }

    boolean matches(String s) {
        if (parts.length == 1) {
            return s.equals(parts[0]);
        }
        int pos = 0;
        int last = parts.length - 1;
        if (anchoredStart) {
            if (!s.startsWith(parts[0])) {
                return false;
            }
            pos = parts[0].length();
        }
        int end = s.length();
        if (anchoredEnd) {
            if (!s.endsWith(parts[last]) || s.length() - parts[last].length() < pos) {
                return false;
            }
            end = s.length() - parts[last].length();
        }
        for (int i = 1; i < last; i++) {
            int at = s.indexOf(parts[i], pos);
            if (at < 0 || at + parts[i].length() > end) {
                return false;
            }
            pos = at + parts[i].length();
        }
        return true;
    }
}
