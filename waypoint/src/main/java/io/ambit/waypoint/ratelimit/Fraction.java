package io.ambit.waypoint.ratelimit;

/**
 * Envoy's {@code FractionalPercent}: {@code numerator / denominator}, the denominator 100, 10,000 or
 * 1,000,000. A numerator above the denominator means always.
 */
public record Fraction(long numerator, long denominator) {
    public static final Fraction ALWAYS = new Fraction(100, 100);
    public static final Fraction NEVER = new Fraction(0, 100);

    public Fraction {
        if (denominator != 100 && denominator != 10_000 && denominator != 1_000_000) {
            throw new IllegalArgumentException("denominator: " + denominator + " (expected: 100, 10000 or 1000000)");
        }
        if (numerator < 0) {
            throw new IllegalArgumentException("numerator: " + numerator + " (expected: >= 0)");
        }
    }

    public boolean always() {
        return numerator >= denominator;
    }

    public boolean never() {
        return numerator == 0;
    }
}
