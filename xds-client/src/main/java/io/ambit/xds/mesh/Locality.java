package io.ambit.xds.mesh;

import java.util.Objects;

/**
 * Where a workload runs, for locality-aware load balancing (workload.proto's {@code Locality}). Empty
 * strings mean unknown.
 */
public record Locality(String region, String zone, String subzone) {
    /** Nothing known. */
    public static final Locality NONE = new Locality("", "", "");

    public Locality {
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(subzone, "subzone");
    }

    public boolean isEmpty() {
        return region.isEmpty() && zone.isEmpty() && subzone.isEmpty();
    }
}
