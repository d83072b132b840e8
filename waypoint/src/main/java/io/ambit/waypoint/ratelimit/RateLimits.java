package io.ambit.waypoint.ratelimit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The waypoint's local rate limits: the stage after ALLOW and before routing.
 *
 * <pre>{@code
 * var limits = new RateLimits();                 // Ticker.SYSTEM, Sampler.RANDOM
 * limits.update(RateLimitLoader...limits());     // control thread, on every config change
 * var conn = limits.connection(request.connection()); // the tunnel's state (per-connection buckets)
 * RateLimitDecision d = limits.check(ns, service, waypoint, conn);   // per request, any thread
 * }</pre>
 *
 * <p>Each applicable limit, in name order, as a chain of Envoy filters would: not enabled (its
 * {@code filter_enabled} share) → skipped; a token taken; none left and enforced → refused at once; none left
 * and not enforced → marked and the next limit is tried. Buckets survive {@link #update} for limits whose
 * settings did not change, so a reload never refills them. Lock-free reads: the limit set is an immutable
 * snapshot swapped by {@code update}.
 */
public final class RateLimits {
    private final Ticker ticker;
    private final Sampler sampler;

    /** One configured limit and its shared bucket. */
    private record Entry(LocalRateLimit limit, TokenBucket bucket) {}

    private volatile List<Entry> entries = List.of();
    private volatile boolean anyPerConnection;

    /**
     * The state of each live downstream connection, by the identity of the object the request names it with.
     * Weak keys: a connection's buckets go when the connection object is collected, so the map is bounded by
     * the connections alive, never by the connections ever seen.
     */
    private final WeakIdentityMap<Connection> connections = new WeakIdentityMap<>();

    public RateLimits(Ticker ticker, Sampler sampler) {
        this.ticker = ticker;
        this.sampler = sampler;
    }

    public RateLimits() {
        this(Ticker.SYSTEM, Sampler.RANDOM);
    }

    /** Replaces the limits; an unchanged limit (same name and settings) keeps its bucket. */
    public synchronized void update(List<LocalRateLimit> limits) {
        var old = new HashMap<LocalRateLimit, Entry>();
        for (Entry e : entries) {
            old.put(e.limit(), e);
        }
        var next = new ArrayList<Entry>();
        for (LocalRateLimit l :
                limits.stream().sorted((a, b) -> a.name().compareTo(b.name())).toList()) {
            Entry e = old.get(l);
            next.add(e != null ? e : new Entry(l, new TokenBucket(l.bucket(), ticker)));
        }
        entries = List.copyOf(next);
        anyPerConnection = next.stream().anyMatch(e -> e.limit().perConnection());
    }

    /** Whether any limit has a bucket per connection (otherwise no request needs its connection's state). */
    public boolean anyPerConnection() {
        return anyPerConnection;
    }

    /**
     * The state of the connection {@code key} stands for (created on first use; keys compared by identity),
     * or null for a null key.
     */
    public Connection connection(Object key) {
        return key == null ? null : connections.get(key, Connection::new);
    }

    public List<LocalRateLimit> limits() {
        return entries.stream().map(Entry::limit).toList();
    }

    /** State kept with one downstream connection: its buckets for per-connection limits. */
    public final class Connection {
        /** Keyed by the limit's shared bucket: identity, so a changed limit gets fresh connection buckets. */
        private final Map<TokenBucket, TokenBucket> buckets = new ConcurrentHashMap<>();

        TokenBucket bucket(TokenBucket shared) {
            return buckets.computeIfAbsent(shared, k -> new TokenBucket(k.spec(), ticker));
        }
    }

    public Connection newConnection() {
        return new Connection();
    }

    /**
     * The decision for one request to {@code service} (namespace {@code ns}) through waypoint {@code waypoint}.
     *
     * @param connection the request's connection state from {@link #newConnection()}, or null (per-connection
     *                   limits then share one bucket, which limits more, never less)
     */
    public RateLimitDecision check(String ns, String service, String waypoint, Connection connection) {
        return check(ns, service, ns, waypoint, connection);
    }

    /** As {@link #check(String, String, String, Connection)} for the waypoint (Gateway) {@code waypointNs/waypoint}. */
    public RateLimitDecision check(
            String ns, String service, String waypointNs, String waypoint, Connection connection) {
        List<Entry> snapshot = entries;
        if (snapshot.isEmpty()) {
            return RateLimitDecision.UNLIMITED;
        }
        List<Map.Entry<String, String>> requestHeaders = List.of();
        List<Map.Entry<String, String>> xHeaders = List.of();
        String marked = null;
        for (Entry e : snapshot) {
            LocalRateLimit l = e.limit();
            if (!l.appliesTo(ns, service, waypointNs, waypoint) || !sampler.sample(l.enabled())) {
                continue;
            }
            TokenBucket bucket = l.perConnection() && connection != null ? connection.bucket(e.bucket()) : e.bucket();
            long left = bucket.acquire();
            if (l.xRateLimitHeaders()) {
                xHeaders = List.of(
                        Map.entry("x-ratelimit-limit", Long.toString(l.bucket().maxTokens())),
                        Map.entry("x-ratelimit-remaining", Long.toString(Math.max(0, left))),
                        Map.entry("x-ratelimit-reset", Long.toString(bucket.secondsToNextFill())));
            }
            if (left >= 0) {
                continue;
            }
            if (sampler.sample(l.enforced())) {
                return new RateLimitDecision(
                        false,
                        true,
                        l.name(),
                        l.status(),
                        RateLimitDecision.BODY,
                        l.resourceExhausted() ? 8 : 14,
                        l.responseHeaders(),
                        List.of(),
                        xHeaders);
            }
            marked = l.name();
            if (!l.requestHeadersIfNotEnforced().isEmpty()) {
                var merged = new ArrayList<>(requestHeaders);
                merged.addAll(l.requestHeadersIfNotEnforced());
                requestHeaders = merged;
            }
        }
        if (marked == null && xHeaders.isEmpty()) {
            return RateLimitDecision.UNLIMITED;
        }
        return new RateLimitDecision(true, marked != null, marked, 0, "", 0, List.of(), requestHeaders, xHeaders);
    }
}
