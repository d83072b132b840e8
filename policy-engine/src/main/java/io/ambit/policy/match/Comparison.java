package io.ambit.policy.match;

import java.math.BigDecimal;

/**
 * An extended numeric condition value: {@code >N}, {@code >=N}, {@code <N} or {@code <=N} with N a
 * decimal number (seed-extensions.md). Values are compared as {@link BigDecimal} so that no header can
 * overflow or round its way past a limit.
 */
public record Comparison(Op op, BigDecimal bound) {

    /** The comparison operator. */
    public enum Op {
        GT(">"),
        GE(">="),
        LT("<"),
        LE("<=");

        final String text;

        Op(String text) {
            this.text = text;
        }
    }

    /** Returns the comparison a value spells, or null when it is not one. */
    public static Comparison parseOrNull(String value) {
        Op op;
        int i;
        if (value.startsWith(">=")) {
            op = Op.GE;
            i = 2;
        } else if (value.startsWith("<=")) {
            op = Op.LE;
            i = 2;
        } else if (value.startsWith(">")) {
            op = Op.GT;
            i = 1;
        } else if (value.startsWith("<")) {
            op = Op.LT;
            i = 1;
        } else {
            return null;
        }
        var n = number(value.substring(i).strip());
        return n == null ? null : new Comparison(op, n);
    }

    /** A strict decimal (optional sign, digits, optional fraction); null when the text is anything else. */
    public static BigDecimal number(String s) {
        if (s.isEmpty() || s.length() > 1024) {
            return null;
        }
        int i = (s.charAt(0) == '-' || s.charAt(0) == '+') ? 1 : 0;
        boolean digits = false;
        boolean dot = false;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                digits = true;
            } else if (c == '.' && !dot) {
                dot = true;
            } else {
                return null;
            }
        }
        return digits ? new BigDecimal(s) : null;
    }

    public boolean test(BigDecimal v) {
        int c = v.compareTo(bound);
        return switch (op) {
            case GT -> c > 0;
            case GE -> c >= 0;
            case LT -> c < 0;
            case LE -> c <= 0;
        };
    }

    @Override
    public String toString() {
        return op.text + bound.toPlainString();
    }
}
