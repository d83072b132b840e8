package io.ambit.policy.engine;

import java.util.Map;

/**
 * The policies of one snapshot that apply to one destination workload at L4. A ztunnel computes it once
 * per workload and snapshot and keeps it with the workload, so a new connection skips the attachment
 * lookups and goes straight to its rules. Immutable; tied to the snapshot that made it.
 */
public final class WorkloadPolicies {
    final PolicySnapshot snapshot;
    final AccessRequest.Destination destination;
    final Object[] buckets;
    final int n;

    WorkloadPolicies(PolicySnapshot snapshot, AccessRequest.Destination destination) {
        this.snapshot = snapshot;
        this.destination = destination;
        Map<String, String> labels = destination.labels();
        Object[] b = new Object[WorkloadIndex.maxBuckets(labels.size())];
        this.n = snapshot.workloads().collect(destination.namespace(), labels, b, 0);
        this.buckets = b;
    }

    /** The workload these policies were attached for. */
    public AccessRequest.Destination destination() {
        return destination;
    }
}
