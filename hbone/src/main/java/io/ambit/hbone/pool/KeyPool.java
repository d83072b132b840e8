package io.ambit.hbone.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The connections of one {@link PoolKey} and its dial in flight. At most one dial per key runs at a time:
 * callers arriving meanwhile wait for it instead of dialing themselves (1,000 callers, one handshake).
 * All fields are guarded by this object's lock, held only for short, non-blocking bookkeeping.
 */
final class KeyPool {
    final PoolKey key;
    final HbonePool owner;
    final List<PooledConnection> connections = new ArrayList<>(1);
    CompletableFuture<PooledConnection> dialing;
    boolean removed;

    KeyPool(PoolKey key, HbonePool owner) {
        this.key = key;
        this.owner = owner;
    }

    boolean isEmpty() {
        return connections.isEmpty() && dialing == null;
    }
}
