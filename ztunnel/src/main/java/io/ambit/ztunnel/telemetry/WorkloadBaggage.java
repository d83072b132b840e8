package io.ambit.ztunnel.telemetry;

import io.ambit.xds.mesh.Workload;
import java.util.Locale;

/**
 * A workload as ztunnel describes it in a {@code baggage} header (ztunnel-reference §2.3,
 * {@code baggage_header_val}): on the CONNECT for the source, on the {@code 200} for the destination.
 * Keys in ztunnel's order, empty values left out; the workload is named by its owner under its type
 * ({@code k8s.deployment.name=web}, not the pod), since a real ztunnel or waypoint on the other side
 * derives its {@code *_workload} labels from it.
 */
public final class WorkloadBaggage {
    private WorkloadBaggage() {}

    public static String of(Workload w) {
        var b = new StringBuilder(160);
        member(b, "k8s.cluster.name", w.clusterId());
        member(b, "k8s.namespace.name", w.namespace());
        member(
                b,
                "k8s." + w.workloadType().name().toLowerCase(Locale.ROOT) + ".name",
                w.workloadName().isEmpty() ? w.name() : w.workloadName());
        member(b, "service.name", w.canonicalName());
        member(b, "service.version", w.canonicalRevision());
        member(b, "cloud.region", w.locality().region());
        member(b, "cloud.availability_zone", w.locality().zone());
        return b.toString();
    }

    private static void member(StringBuilder b, String key, String value) {
        if (value != null && !value.isEmpty()) {
            b.append(b.isEmpty() ? "" : ",").append(key).append('=').append(value);
        }
    }
}
