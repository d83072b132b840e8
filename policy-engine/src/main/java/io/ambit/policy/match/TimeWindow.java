package io.ambit.policy.match;

import java.time.LocalTime;
import java.time.format.DateTimeParseException;

/**
 * Extended {@code custom.time_of_day} value {@code HH:MM-HH:MM}: the half-open window [start, end),
 * wrapping midnight when end is not after start ({@code 22:00-06:00}).
 */
public record TimeWindow(int startMinute, int endMinute) {

    /**
     * @throws IllegalArgumentException naming the value and the expected form
     */
    public static TimeWindow parse(String value) {
        int dash = value.indexOf('-');
        if (dash < 0) {
            throw bad(value);
        }
        try {
            var start = LocalTime.parse(value.substring(0, dash).strip());
            var end = LocalTime.parse(value.substring(dash + 1).strip());
            return new TimeWindow(start.getHour() * 60 + start.getMinute(), end.getHour() * 60 + end.getMinute());
        } catch (DateTimeParseException e) {
            throw bad(value);
        }
    }

    private static IllegalArgumentException bad(String value) {
        return new IllegalArgumentException(
                "\"" + value + "\" is not a time window (expected HH:MM-HH:MM, e.g. 08:00-18:00 or 22:00-06:00)");
    }

    public boolean contains(int minuteOfDay) {
        if (startMinute < endMinute) {
            return minuteOfDay >= startMinute && minuteOfDay < endMinute;
        }
        if (startMinute == endMinute) {
            return true; // a full day: "00:00-00:00"
        }
        return minuteOfDay >= startMinute || minuteOfDay < endMinute;
    }
}
