package io.ambit.policy.engine;

import io.ambit.policy.match.Comparison;
import io.ambit.policy.match.StringMatcher;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Header and JWT-claim conditions. Plain values follow Istio (repeated headers joined with {@code ,};
 * a list claim matches when any string element does; numbers and booleans never match a string).
 * Extended numeric values ({@code >N} ...) compare every value separately and fail closed on a value
 * that is not a number (seed-extensions.md).
 */
final class ComparisonMatcher {
    private ComparisonMatcher() {}

    static boolean isComparison(String v) {
        return Comparison.parseOrNull(v) != null;
    }

    /**
     * A header condition. Istio matches repeated headers joined with {@code ,} (authz-semantics §2.4);
     * CVE-2026-26308 showed that a DENY can then be dodged by sending the header twice. So a policy that
     * denies ({@code denying}) also tries every value on its own and takes whichever reading makes it
     * fire (values: joined or any value; notValues: the joined value or some value fails to match), while
     * an ALLOW keeps the joined reading only. With one value both readings agree.
     */
    static Matcher header(String key, String name, List<String> values, boolean ext, boolean negate, boolean denying) {
        var split = split(values, ext);
        var strings = split.strings.isEmpty() ? null : StringMatcher.of(split.strings, false, ext);
        var comparisons = split.comparisons.toArray(Comparison[]::new);
        Matcher joined = c -> {
            if (strings != null && strings.matches(c.header(name))) {
                return true;
            }
            return comparisons.length > 0 && compareAll(key, c.headerValues(name), comparisons);
        };
        if (!denying || strings == null) {
            return L7Compiler.negated(joined, negate);
        }
        Matcher eachValue = c -> {
            var all = c.headerValues(name);
            if (all.size() < 2) {
                return joined.test(c);
            }
            for (String v : all) {
                if (strings.matches(v)) {
                    return true;
                }
            }
            return comparisons.length > 0 && compareAll(key, all, comparisons);
        };
        if (!negate) {
            return c -> joined.test(c) || eachValue.test(c);
        }
        return c -> !joined.test(c) || !eachValue.test(c);
    }

    static Matcher claim(String key, List<String> path, List<String> values, boolean ext, boolean negate) {
        var split = split(values, ext);
        var strings = split.strings.isEmpty() ? null : StringMatcher.of(split.strings, false, ext);
        var comparisons = split.comparisons.toArray(Comparison[]::new);
        return L7Compiler.negated(
                c -> {
                    Object v = c.claim(path);
                    if (v == null) {
                        return false;
                    }
                    if (strings != null) {
                        if (v instanceof String s && strings.matches(s)) {
                            return true;
                        }
                        if (v instanceof List<?> l) {
                            for (Object e : l) {
                                if (e instanceof String s && strings.matches(s)) {
                                    return true;
                                }
                            }
                        }
                    }
                    if (comparisons.length == 0) {
                        return false;
                    }
                    var items = new ArrayList<Object>();
                    if (v instanceof List<?> l) {
                        items.addAll(l);
                    } else {
                        items.add(v);
                    }
                    return compareAll(key, items, comparisons);
                },
                negate);
    }

    /**
     * A claim or header value as a number, or null. JSON numbers are used as they are (BigDecimal compares
     * by magnitude without ever expanding {@code 1e100000000}); strings must be plain decimals.
     */
    private static BigDecimal number(Object v) {
        if (v instanceof BigDecimal b) {
            return b;
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return BigDecimal.valueOf(((Number) v).longValue());
        }
        if (v instanceof java.math.BigInteger bi) {
            return new BigDecimal(bi);
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            return Double.isFinite(d) ? BigDecimal.valueOf(d) : null;
        }
        return v instanceof String s ? Comparison.number(s.strip()) : null;
    }

    /** True when any value satisfies any comparison; throws when a present value is not a number. */
    private static boolean compareAll(String key, List<?> values, Comparison[] comparisons) {
        boolean hit = false;
        for (Object raw : values) {
            BigDecimal n = number(raw);
            if (n == null) {
                throw new UncomparableValueException(key, String.valueOf(raw));
            }
            for (Comparison cmp : comparisons) {
                hit |= cmp.test(n);
            }
        }
        return hit;
    }

    private record Split(List<String> strings, List<Comparison> comparisons) {}

    private static Split split(List<String> values, boolean ext) {
        var strings = new ArrayList<String>();
        var comparisons = new ArrayList<Comparison>();
        for (String v : values) {
            Comparison cmp = ext ? Comparison.parseOrNull(v) : null;
            if (cmp != null) {
                comparisons.add(cmp);
            } else {
                strings.add(v);
            }
        }
        return new Split(strings, comparisons);
    }
}
