package io.ambit.waypoint.ratelimit;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Values kept per key object, by the key's identity (not {@code equals}: two connections whose descriptions
 * are equal are still two connections), for as long as the key is alive: entries of collected keys are
 * dropped on the next access, so the map is bounded by the keys alive, never by the keys ever seen.
 * Lock-free reads; safe from any thread.
 */
final class WeakIdentityMap<V> {
    private final ConcurrentHashMap<Key, V> map = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

    /** The value for {@code key}, created by {@code create} on first use. */
    V get(Object key, Supplier<V> create) {
        expunge();
        V v = map.get(new Key(key, null));
        if (v != null) {
            return v;
        }
        return map.computeIfAbsent(new Key(key, collected), k -> create.get());
    }

    /** Entries alive (for tests and stats). */
    int size() {
        expunge();
        return map.size();
    }

    private void expunge() {
        for (Object k; (k = collected.poll()) != null; ) {
            map.remove(k);
        }
    }

    /** A weak reference equal to another only when both refer to the same live object (or are the same). */
    private static final class Key extends WeakReference<Object> {
        private final int hash;

        Key(Object referent, ReferenceQueue<Object> queue) {
            super(referent, queue);
            this.hash = System.identityHashCode(referent);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Key other)) {
                return false;
            }
            Object mine = get();
            return mine != null && mine == other.get();
        }
    }
}
