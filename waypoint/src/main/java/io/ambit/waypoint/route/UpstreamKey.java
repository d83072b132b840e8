package io.ambit.waypoint.route;

/**
 * Which upstream connections can carry a request: the same app address through the same node, and the
 * same protocol. Kept to addresses so that the per-request map lookups hash two small values, not the
 * whole workload record.
 *
 * @param endpoint the endpoint the connection was opened for (what a new tunnel needs)
 */
public record UpstreamKey(Endpoint endpoint, boolean http2) {

    @Override
    public boolean equals(Object o) {
        return o instanceof UpstreamKey k
                && http2 == k.http2
                && endpoint.target().equals(k.endpoint.target())
                && endpoint.hbone().equals(k.endpoint.hbone())
                && endpoint.identities().equals(k.endpoint.identities());
    }

    @Override
    public int hashCode() {
        return endpoint.target().hashCode() * 31 + (http2 ? 1 : 0);
    }
}
