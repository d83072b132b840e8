package io.ambit.policy.engine;

import io.ambit.policy.match.TimeWindow;
import io.ambit.policy.match.Weekdays;
import java.time.DayOfWeek;
import java.util.EnumSet;
import java.util.List;

/** Extended {@code custom.time_of_day} and {@code custom.day_of_week}, in the mesh time zone. */
final class TimeMatchers {
    private TimeMatchers() {}

    static Matcher timeOfDay(List<String> values) {
        var windows = values.stream().map(TimeWindow::parse).toArray(TimeWindow[]::new);
        return c -> {
            int minute = c.minuteOfDay();
            for (TimeWindow w : windows) {
                if (w.contains(minute)) {
                    return true;
                }
            }
            return false;
        };
    }

    static Matcher dayOfWeek(List<String> values) {
        var days = EnumSet.noneOf(DayOfWeek.class);
        values.forEach(v -> days.add(Weekdays.parse(v)));
        return c -> days.contains(c.dayOfWeek());
    }
}
