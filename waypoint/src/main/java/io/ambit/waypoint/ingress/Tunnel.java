package io.ambit.waypoint.ingress;

import io.ambit.hbone.server.TraceParent;

/**
 * One accepted HBONE tunnel into the waypoint: the verified client, the service it is for, and the
 * CONNECT's own trace context (used when a request carries none). Every request on the tunnel shares it.
 */
public record Tunnel(Peer peer, Target target, TraceParent connectTrace) {}
