package io.ambit.policy.engine;

import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;

/**
 * One evaluation: the request plus what was derived from it once (normalized path, the authenticated
 * token, the local time). Lives for one decision on one thread.
 */
final class EvalContext {
    final AccessRequest request;
    final PeerIdentity peer;
    /** The normalized path without query, or null when the request has none. */
    final String path;
    /** The token RequestAuthentication accepted, with space-delimited claims split; null otherwise. */
    Token.Verified auth;

    private final Clock clock;
    private final ZoneId zone;
    private int minuteOfDay = -1;
    private DayOfWeek day;

    EvalContext(AccessRequest request, String path, Clock clock, ZoneId zone) {
        this.request = request;
        this.peer = request.peer();
        this.path = path;
        this.clock = clock;
        this.zone = zone;
    }

    /** A header's values joined with {@code ,}, as Envoy matches repeated headers; null when absent. */
    String header(String lowerName) {
        List<String> values = request.headers().get(lowerName);
        if (values == null || values.isEmpty()) {
            return pseudoHeader(lowerName);
        }
        return values.size() == 1 ? values.getFirst() : String.join(",", values);
    }

    List<String> headerValues(String lowerName) {
        List<String> values = request.headers().get(lowerName);
        if (values == null || values.isEmpty()) {
            String p = pseudoHeader(lowerName);
            return p == null ? List.of() : List.of(p);
        }
        return values;
    }

    private String pseudoHeader(String name) {
        return switch (name) {
            case ":authority", "host" -> request.host();
            case ":method" -> request.method();
            case ":path" -> request.path();
            default -> null;
        };
    }

    int minuteOfDay() {
        if (minuteOfDay < 0) {
            // Read the clock only when a time condition asks: most decisions never do.
            Instant now = request.time() != null ? request.time() : clock.instant();
            var t = now.atZone(zone);
            minuteOfDay = t.getHour() * 60 + t.getMinute();
            day = t.getDayOfWeek();
        }
        return minuteOfDay;
    }

    DayOfWeek dayOfWeek() {
        minuteOfDay();
        return day;
    }

    /** A claim by path ({@code [a][b]} descends into objects); null when absent. */
    Object claim(List<String> path) {
        if (auth == null) {
            return null;
        }
        Object v = auth.claims();
        for (String p : path) {
            if (!(v instanceof Map<?, ?> m)) {
                return null;
            }
            v = m.get(p);
        }
        return v;
    }
}
