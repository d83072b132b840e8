package io.ambit.waypoint.telemetry;

import java.util.List;

/** Told about every finished request, on its event loop; must not block. */
@FunctionalInterface
public interface RequestObserver {
    void completed(RequestRecord record);

    /** Tells each of {@code observers} in turn; one failing does not stop the others. */
    static RequestObserver all(List<RequestObserver> observers) {
        List<RequestObserver> copy = List.copyOf(observers);
        return r -> {
            for (RequestObserver o : copy) {
                try {
                    o.completed(r);
                } catch (RuntimeException e) {
                    // telemetry must never break the data path
                }
            }
        };
    }
}
