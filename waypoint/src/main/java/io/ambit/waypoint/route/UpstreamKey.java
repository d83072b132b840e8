package io.ambit.waypoint.route;

/**
 * Which upstream connections can carry a request: the same endpoint (app address, node, accepted
 * identities) and the same protocol.
 */
public record UpstreamKey(Endpoint endpoint, boolean http2) {}
