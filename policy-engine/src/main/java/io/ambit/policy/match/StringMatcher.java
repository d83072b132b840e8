package io.ambit.policy.match;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Istio's generic string rule (authz-semantics §2.4), compiled once: {@code "*"} is presence (non-empty),
 * a leading {@code *} is a suffix match (checked first, so {@code "*abc*"} is a suffix match on
 * {@code abc*}), a trailing {@code *} a prefix match, anything else exact; an infix {@code *} is literal.
 * With Ambit's extended conditions on, a value with {@code *} at both ends is a contains match instead.
 *
 * <p>Exact values go in a hash set; prefixes and suffixes in tries once there are more than a few, so
 * the cost of a match does not grow with the number of values.
 */
public final class StringMatcher {
    private static final int LINEAR_LIMIT = 8;
    private static final String[] NONE = new String[0];

    private final boolean ignoreCase;
    private final boolean presence;
    private final Set<String> exact;
    private final String[] prefixes;
    private final String[] suffixes;
    private final String[] contains;
    private final AffixTrie prefixTrie;
    private final AffixTrie suffixTrie;
    private final int size;

    private StringMatcher(
            boolean ignoreCase,
            boolean presence,
            Set<String> exact,
            List<String> prefixes,
            List<String> suffixes,
            List<String> contains,
            int size) {
        this.ignoreCase = ignoreCase;
        this.presence = presence;
        this.exact = exact;
        this.size = size;
        this.contains = contains.toArray(NONE);
        if (prefixes.size() > LINEAR_LIMIT) {
            this.prefixTrie = AffixTrie.of(prefixes, false);
            this.prefixes = NONE;
        } else {
            this.prefixTrie = null;
            this.prefixes = prefixes.toArray(NONE);
        }
        if (suffixes.size() > LINEAR_LIMIT) {
            this.suffixTrie = AffixTrie.of(suffixes, true);
            this.suffixes = NONE;
        } else {
            this.suffixTrie = null;
            this.suffixes = suffixes.toArray(NONE);
        }
    }

    /** Compiles values with Istio's rule, case-sensitively and without contains-globs. */
    public static StringMatcher of(List<String> values) {
        return of(values, false, false);
    }

    /**
     * @param ignoreCase    compare case-insensitively (Istio does so for {@code hosts} only)
     * @param containsGlobs Ambit extended conditions: {@code *x*} means "contains x"
     */
    public static StringMatcher of(List<String> values, boolean ignoreCase, boolean containsGlobs) {
        boolean presence = false;
        var exact = new HashSet<String>();
        var prefixes = new ArrayList<String>();
        var suffixes = new ArrayList<String>();
        var contains = new ArrayList<String>();
        for (String raw : values) {
            String v = ignoreCase ? raw.toLowerCase(Locale.ROOT) : raw;
            if (v.equals("*")) {
                presence = true;
            } else if (containsGlobs && v.length() >= 2 && v.startsWith("*") && v.endsWith("*")) {
                contains.add(v.substring(1, v.length() - 1));
            } else if (v.startsWith("*")) {
                suffixes.add(v.substring(1));
            } else if (v.endsWith("*")) {
                prefixes.add(v.substring(0, v.length() - 1));
            } else {
                exact.add(v);
            }
        }
        return new StringMatcher(ignoreCase, presence, Set.copyOf(exact), prefixes, suffixes, contains, values.size());
    }

    /**
     * The values when every one of them is an exact (case-sensitive) match, else null: such a matcher
     * can serve as an index key, since a match implies the attribute equals one of them.
     */
    public Set<String> exactValues() {
        boolean onlyExact = !presence
                && !ignoreCase
                && prefixes.length == 0
                && prefixTrie == null
                && suffixes.length == 0
                && suffixTrie == null
                && contains.length == 0
                && !exact.isEmpty();
        return onlyExact ? exact : null;
    }

    /** True when no value was given: the field is unset. */
    public boolean isEmpty() {
        return size == 0;
    }

    /** Whether any value matches; an absent attribute (null) never matches. */
    public boolean matches(String value) {
        if (value == null) {
            return false;
        }
        if (presence && !value.isEmpty()) {
            return true;
        }
        String v = ignoreCase ? value.toLowerCase(Locale.ROOT) : value;
        if (exact.contains(v)) {
            return true;
        }
        for (String p : prefixes) {
            if (v.startsWith(p)) {
                return true;
            }
        }
        if (prefixTrie != null && prefixTrie.matches(v)) {
            return true;
        }
        for (String s : suffixes) {
            if (v.endsWith(s)) {
                return true;
            }
        }
        if (suffixTrie != null && suffixTrie.matches(v)) {
            return true;
        }
        for (String c : contains) {
            if (v.contains(c)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any value matches any element of a list attribute (JWT list claims, audiences). */
    public boolean matchesAny(List<String> values) {
        for (String v : values) {
            if (matches(v)) {
                return true;
            }
        }
        return false;
    }
}
