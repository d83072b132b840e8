package io.ambit.hbone.pool;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The connections of one {@link PoolKey} on one event loop (or on any loop of the pool's group, when {@code
 * loop} is null) and its dial in flight. At most one dial per key and loop runs at a time: callers arriving
 * meanwhile wait for it instead of dialing themselves (1,000 callers, one handshake). All fields are
 * guarded by this object's lock, held only for short, non-blocking bookkeeping.
 */
final class KeyPool {
    final PoolKey key;
    /** The event loop every connection of this pool lives on, or null: any loop of the owner's group. */
    final EventLoop loop;

    final HbonePool owner;
    /** Whether its connections carry direct streams ({@link DirectClientStreams}) rather than child channels. */
    final boolean direct;

    final List<PooledConnection> connections = new ArrayList<>(1);
    CompletableFuture<PooledConnection> dialing;
    boolean removed;

    KeyPool(PoolKey key, EventLoop loop, boolean direct, HbonePool owner) {
        this.key = key;
        this.loop = loop;
        this.direct = direct;
        this.owner = owner;
    }

    /** This pool's entry in the owner's map. */
    Slot slot() {
        return new Slot(key, loop, direct);
    }

    /** A key, the event loop its connections live on (null: any), and the kind of streams they carry. */
    record Slot(PoolKey key, EventLoop loop, boolean direct) {}

    boolean isEmpty() {
        return connections.isEmpty() && dialing == null;
    }
}
