package io.ambit.hbone.pool;

import io.ambit.hbone.identity.SpiffeId;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * What makes two HBONE connections interchangeable (ztunnel's {@code WorkloadKey}): a connection is reused
 * only for the same key.
 *
 * @param source the identity we present
 * @param destinationIdentities the server identities we accept (any one of them)
 * @param sourceIp the local address to connect from, or {@code null} for the system's choice
 * @param destination the server's address (ztunnel: the destination's {@code ip:15008}, or its waypoint's)
 */
public record PoolKey(
        SpiffeId source, Set<SpiffeId> destinationIdentities, InetAddress sourceIp, InetSocketAddress destination) {

    public PoolKey {
        if (source == null) {
            throw new IllegalArgumentException("source: null (expected our SPIFFE id)");
        }
        if (destinationIdentities == null || destinationIdentities.isEmpty()) {
            throw new IllegalArgumentException("destinationIdentities: empty (expected at least one SPIFFE id)");
        }
        if (destination == null || destination.isUnresolved()) {
            throw new IllegalArgumentException("destination: " + destination + " (expected a resolved ip:port)");
        }
        destinationIdentities = Set.copyOf(destinationIdentities);
    }

    @Override
    public String toString() {
        return source + "@" + (sourceIp == null ? "*" : sourceIp.getHostAddress()) + " -> " + destinationIdentities
                + "@" + destination;
    }
}
