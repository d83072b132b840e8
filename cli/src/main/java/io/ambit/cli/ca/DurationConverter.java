package io.ambit.cli.ca;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations as Istio writes them ({@code 24h}, {@code 90m}, {@code 1h30m}, {@code 3600s}, {@code 500ms}),
 * plus days ({@code 7d}) and ISO-8601 ({@code PT24H}).
 */
public final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    @Override
    public Duration convert(String text) {
        return parse(text);
    }

    /**
     * Parses {@code text}.
     *
     * @throws TypeConversionException saying what was expected
     */
    public static Duration parse(String text) {
        String s = text.strip();
        if (s.startsWith("P") || s.startsWith("p")) {
            try {
                return Duration.parse(s);
            } catch (DateTimeParseException e) {
                throw bad(text);
            }
        }
        Matcher m = PART.matcher(s);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.lookingAt()) {
            long n;
            try {
                n = Long.parseLong(m.group(1));
                total = total.plus(
                        switch (m.group(2)) {
                            case "ms" -> Duration.ofMillis(n);
                            case "s" -> Duration.ofSeconds(n);
                            case "m" -> Duration.ofMinutes(n);
                            case "h" -> Duration.ofHours(n);
                            default -> Duration.ofDays(n);
                        });
            } catch (ArithmeticException | NumberFormatException e) {
                throw bad(text);
            }
            end = m.end();
            m.region(end, s.length());
        }
        if (end == 0 || end != s.length()) {
            throw bad(text);
        }
        return total;
    }

    private static TypeConversionException bad(String text) {
        return new TypeConversionException(
                "invalid duration '" + text + "' (expected e.g. 24h, 90m, 1h30m, 7d, 3600s or PT24H)");
    }
}
