package io.ambit.policy.match;

import java.time.DayOfWeek;
import java.util.Locale;

/** Extended {@code custom.day_of_week} values: full or three-letter English day names, any case. */
public final class Weekdays {
    private Weekdays() {}

    /**
     * @throws IllegalArgumentException naming the value and the expected form
     */
    public static DayOfWeek parse(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        for (var d : DayOfWeek.values()) {
            String full = d.name().toLowerCase(Locale.ROOT);
            if (v.equals(full) || v.equals(full.substring(0, 3))) {
                return d;
            }
        }
        throw new IllegalArgumentException(
                "\"" + value + "\" is not a day of the week (expected monday..sunday or mon..sun)");
    }
}
