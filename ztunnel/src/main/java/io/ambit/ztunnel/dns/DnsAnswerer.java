package io.ambit.ztunnel.dns;

import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.Workload;
import java.util.concurrent.CompletableFuture;

/**
 * One question's flow, for one proxied workload (the client of every query its listeners take): count it →
 * check it is a standard query with one question → the mesh's answer ({@link MeshResolver}, against the
 * current state) → else the upstream's ({@link UpstreamForwarder}). Shared by the UDP and TCP listeners.
 */
final class DnsAnswerer {
    private final MeshSource mesh;
    private final Workload client;
    private final DnsProxy.Shared shared;

    DnsAnswerer(MeshSource mesh, Workload client, DnsProxy.Shared shared) {
        this.mesh = mesh;
        this.client = client;
        this.shared = shared;
    }

    /**
     * The answer to {@code q} (null: the query had not exactly one question) over {@code protocol}
     * ({@code udp} or {@code tcp}); never completes exceptionally.
     */
    CompletableFuture<DnsReply> answer(Question q, String protocol) {
        if (q == null) {
            return CompletableFuture.completedFuture(DnsReply.error(DnsReply.FORMERR));
        }
        if (!q.isStandardQuery()) {
            return CompletableFuture.completedFuture(DnsReply.error(DnsReply.NOTIMP));
        }
        var state = mesh.current();
        // the workload as the state now has it (its canonical names, network may have changed)
        Workload who = client == null ? null : state.workloadByUid(client.uid()).orElse(client);
        var labels = DnsMetrics.Labels.of(q.type(), protocol, who);
        shared.metrics().request(labels);
        var records = shared.resolver().resolve(state, who, q.lowerName(), q.type(), q.dnsClass());
        if (records != null) {
            return CompletableFuture.completedFuture(DnsReply.mesh(records));
        }
        return shared.forwarder().forward(q, shared.metrics(), labels);
    }
}
