package io.ambit.ztunnel.lifecycle;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * How long a shutdown lets open connections drain before closing them (ztunnel-reference.md §7.5), read
 * as ztunnel reads it: {@code CONNECTION_TERMINATION_DEADLINE} (e.g. {@code 5s}, {@code 1500ms}, {@code
 * 1m}); else {@code TERMINATION_GRACE_PERIOD_SECONDS} minus 5 s (minus 1 s when it is 10 or less), so the
 * drain ends before the kubelet kills the pod; else 5 s.
 */
public final class DrainDeadline {
    /** ztunnel's default. */
    public static final Duration DEFAULT = Duration.ofSeconds(5);

    private DrainDeadline() {}

    /**
     * The deadline the environment asks for.
     *
     * @throws IllegalArgumentException naming the variable, its value and what is expected
     */
    public static Duration fromEnvironment(Map<String, String> env) {
        String explicit = env.get("CONNECTION_TERMINATION_DEADLINE");
        if (explicit != null && !explicit.isBlank()) {
            return parse(explicit, "CONNECTION_TERMINATION_DEADLINE");
        }
        String grace = env.get("TERMINATION_GRACE_PERIOD_SECONDS");
        if (grace != null && !grace.isBlank()) {
            long seconds;
            try {
                seconds = Long.parseLong(grace.trim());
            } catch (NumberFormatException e) {
                seconds = -1;
            }
            if (seconds < 0) {
                throw new IllegalArgumentException("TERMINATION_GRACE_PERIOD_SECONDS is \"" + grace
                        + "\" (expected: a whole number of seconds, 0 or more)");
            }
            return Duration.ofSeconds(Math.max(0, seconds - (seconds <= 10 ? 1 : 5)));
        }
        return DEFAULT;
    }

    /**
     * A duration as {@code 5s}, {@code 1500ms}, {@code 2m} or a bare number of seconds.
     *
     * @param what names the setting in the error
     * @throws IllegalArgumentException naming {@code what}, the value and what is expected
     */
    public static Duration parse(String text, String what) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            Duration d;
            if (t.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            } else if (t.endsWith("s")) {
                d = Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            } else if (t.endsWith("m")) {
                d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
            } else {
                d = Duration.ofSeconds(Long.parseLong(t));
            }
            if (!d.isNegative() && d.compareTo(Duration.ofHours(1)) <= 0) {
                return d;
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        throw new IllegalArgumentException(
                what + " is \"" + text + "\" (expected: a duration from 0 to 1h such as 5s, 1500ms or 1m)");
    }
}
