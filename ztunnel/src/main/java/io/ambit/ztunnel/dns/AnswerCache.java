package io.ambit.ztunnel.dns;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Upstream answers kept for their TTL (the smallest TTL of their records, at most {@value #MAX_TTL_SECONDS}
 * s), at most {@code capacity} of them (ztunnel: 4096), least recently used dropped first. Answers without
 * records and failures are not kept. A hit hands out the records with their TTLs lowered by the time spent
 * in the cache. Thread-safe: one short lock per look-up (the map is small and the work under it constant).
 */
final class AnswerCache {
    static final long MAX_TTL_SECONDS = 3600;

    record Key(String name, int type, int dnsClass) {
        static Key of(Question q) {
            return new Key(q.name().toLowerCase(Locale.ROOT), q.type(), q.dnsClass());
        }
    }

    private record Slot(DnsReply reply, long storedNanos, long expiresNanos) {}

    private final int capacity;
    private final LongSupplier nanoClock;
    private final Map<Key, Slot> map;

    AnswerCache(int capacity, LongSupplier nanoClock) {
        this.capacity = capacity;
        this.nanoClock = nanoClock;
        this.map = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Slot> eldest) {
                return size() > AnswerCache.this.capacity;
            }
        };
    }

    /** The cached answer with aged TTLs, or null. */
    DnsReply get(Key key) {
        Slot e;
        long now = nanoClock.getAsLong();
        synchronized (map) {
            e = map.get(key);
            if (e == null) {
                return null;
            }
            if (now - e.expiresNanos() >= 0) {
                map.remove(key);
                return null;
            }
        }
        long aged = (now - e.storedNanos()) / 1_000_000_000L;
        var r = e.reply();
        return new DnsReply(
                r.rcode(), false, age(r.answers(), aged), age(r.authority(), aged), age(r.additional(), aged));
    }

    void put(Key key, DnsReply reply) {
        if (capacity <= 0 || (reply.rcode() != DnsReply.NOERROR && reply.rcode() != DnsReply.NXDOMAIN)) {
            return;
        }
        long ttl = Long.MAX_VALUE;
        for (var section : List.of(reply.answers(), reply.authority())) {
            for (var r : section) {
                ttl = Math.min(ttl, r.ttl());
            }
        }
        if (ttl == Long.MAX_VALUE || ttl <= 0) {
            return; // nothing says how long it holds
        }
        ttl = Math.min(ttl, MAX_TTL_SECONDS);
        long now = nanoClock.getAsLong();
        synchronized (map) {
            map.put(key, new Slot(reply, now, now + ttl * 1_000_000_000L));
        }
    }

    int size() {
        synchronized (map) {
            return map.size();
        }
    }

    private static List<Rr> age(List<Rr> records, long seconds) {
        if (seconds <= 0 || records.isEmpty()) {
            return records;
        }
        var out = new ArrayList<Rr>(records.size());
        for (var r : records) {
            out.add(r.withTtl(Math.max(0, r.ttl() - seconds)));
        }
        return out;
    }
}
