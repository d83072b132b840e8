package io.ambit.waypoint.jwt;

import java.net.URI;
import java.text.ParseException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The waypoint's remote key sets, shared by every {@link JwtAuthenticator} (and so across policy
 * snapshots): one entry per {@code jwksUri} (or per issuer, for OpenID discovery).
 *
 * <p>Freshness: keys are used as fetched for {@link Settings#refreshInterval()} (Istio refreshes every 20
 * minutes); after that the next request triggers a background refresh and keeps using the old keys, for
 * at most {@link Settings#maxStale()} more. A token whose {@code kid} the keys do not know triggers a
 * refresh too, at most once per {@link Settings#unknownKidInterval()} per URI, so a stream of random kids
 * costs one fetch per interval.
 *
 * <p>Failure is closed: without keys (never fetched, or stale past {@code maxStale}) every token of that
 * issuer is refused with "Jwks remote fetch is failed". There is no default or built-in key
 * (CVE-2026-31837). After a failed fetch, new attempts wait an exponential backoff, and requests in the
 * meantime fail at once instead of piling up on a dead server.
 *
 * <p>Fetches run on the JDK HTTP client's virtual threads; the stages this class returns complete there or
 * are already complete. Thread-safe; lock-free (state per URI swapped with compare-and-set).
 */
public final class JwksCache implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JwksCache.class);

    /** Most remote key sets kept; more URIs than this means configuration churn, so old entries go. */
    static final int MAX_ENTRIES = 1024;

    /**
     * @param refreshInterval    use fetched keys this long before refreshing
     * @param maxStale           keep using keys this long past refreshInterval while refreshes fail
     * @param unknownKidInterval least time between refreshes triggered by an unknown kid
     * @param fetchTimeout       connect + response timeout of one fetch (Istio's rule {@code timeout}: 5s)
     * @param retryMin           first backoff after a failed fetch, doubling up to {@code retryMax}
     * @param retryMax           longest backoff
     * @param maxBytes           largest JWKS document accepted
     */
    public record Settings(
            Duration refreshInterval,
            Duration maxStale,
            Duration unknownKidInterval,
            Duration fetchTimeout,
            Duration retryMin,
            Duration retryMax,
            int maxBytes) {
        public static final Settings DEFAULT = new Settings(
                Duration.ofMinutes(20),
                Duration.ofHours(1),
                Duration.ofSeconds(15),
                Duration.ofSeconds(5),
                Duration.ofSeconds(1),
                Duration.ofMinutes(1),
                256 * 1024);

        public Settings {
            for (var d :
                    new Duration[] {refreshInterval, maxStale, unknownKidInterval, fetchTimeout, retryMin, retryMax}) {
                if (d == null || d.isNegative()) {
                    throw new IllegalArgumentException("JWKS cache durations must be >= 0, got " + d);
                }
            }
            if (fetchTimeout.isZero()) {
                throw new IllegalArgumentException("fetchTimeout: 0 (expected: > 0)");
            }
            if (maxBytes <= 0) {
                throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: > 0)");
            }
        }
    }

    /** One URI's state, replaced whole. {@code keys} is null until a fetch succeeded. */
    private record State(
            KeySet keys,
            long fetchedAt,
            CompletableFuture<KeySet> inflight,
            long lastKidRefresh,
            long nextAttempt,
            int failures,
            String lastError) {
        static final State EMPTY = new State(null, 0, null, Long.MIN_VALUE / 2, 0, 0, null);

        State with(CompletableFuture<KeySet> fetch, long kidRefresh) {
            return new State(keys, fetchedAt, fetch, kidRefresh, nextAttempt, failures, lastError);
        }
    }

    private static final class Entry {
        final String source;
        final AtomicReference<State> state = new AtomicReference<>(State.EMPTY);
        volatile long lastUsed;

        Entry(String source) {
            this.source = source;
        }
    }

    private final Settings settings;
    private final InstantSource clock;
    private final JwksFetcher fetcher;
    private final java.util.concurrent.Executor verifier;
    private final ConcurrentHashMap<String, Entry> remote = new ConcurrentHashMap<>();
    private final Map<String, KeySet> inline = new ConcurrentHashMap<>();
    /** Parsed tokens of every authenticator (4 M characters at most). */
    private final TokenCache tokens = new TokenCache(4L << 20);

    public JwksCache(Settings settings, InstantSource clock) {
        this(settings, clock, null);
    }

    /**
     * @param verifier where new signatures are verified (RSA and ECDSA cost up to milliseconds of CPU, which
     *                 an event loop should not spend); null verifies on the caller's thread. Give a bounded
     *                 one ({@link #boundedVerifier}): when it refuses work, the token is refused (fail closed).
     */
    public JwksCache(Settings settings, InstantSource clock, java.util.concurrent.Executor verifier) {
        this.settings = settings;
        this.clock = clock;
        this.verifier = verifier;
        this.fetcher = new JwksFetcher(settings.fetchTimeout(), settings.maxBytes());
    }

    /**
     * A verifier executor of {@code threads} daemon threads and at most {@code queue} waiting verifications;
     * beyond that it refuses (and those tokens are refused), so a flood of new tokens costs bounded CPU and
     * memory. The caller shuts it down.
     */
    public static java.util.concurrent.ExecutorService boundedVerifier(int threads, int queue) {
        var count = new java.util.concurrent.atomic.AtomicInteger();
        return new java.util.concurrent.ThreadPoolExecutor(
                threads,
                threads,
                0,
                java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(queue),
                r -> {
                    var t = new Thread(r, "ambit-jwt-verify-" + count.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                new java.util.concurrent.ThreadPoolExecutor.AbortPolicy());
    }

    /** A cache with {@link Settings#DEFAULT} on the system clock. */
    public JwksCache() {
        this(Settings.DEFAULT, InstantSource.system());
    }

    public Settings settings() {
        return settings;
    }

    InstantSource clock() {
        return clock;
    }

    TokenCache tokens() {
        return tokens;
    }

    java.util.concurrent.Executor verifier() {
        return verifier;
    }

    /** Starts fetching a URI's keys if nothing is cached yet (e.g. when a snapshot names a new jwksUri). */
    void warm(String source) {
        keys(source);
    }

    /**
     * The current keys of a remote source ({@code https://...} or {@code discover:<issuer>}).
     * Completes exceptionally with {@link JwksUnavailableException} when there are none to be had.
     */
    CompletionStage<KeySet> keys(String source) {
        Entry e = entry(source);
        long now = clock.millis();
        State s = e.state.get();
        if (s.keys != null && now < s.fetchedAt + settings.refreshInterval().toMillis()) {
            return CompletableFuture.completedFuture(s.keys);
        }
        if (s.keys != null
                && now
                        < s.fetchedAt
                                + settings.refreshInterval().toMillis()
                                + settings.maxStale().toMillis()) {
            if (now >= s.nextAttempt) {
                start(e, now, false); // background refresh; this request uses the keys it has
            }
            return CompletableFuture.completedFuture(s.keys);
        }
        if (s.inflight != null) {
            return s.inflight;
        }
        if (now < s.nextAttempt) {
            return CompletableFuture.failedFuture(new JwksUnavailableException(
                    source + ": " + s.lastError + " (retrying in " + (s.nextAttempt - now) + " ms)"));
        }
        return start(e, now, false);
    }

    /**
     * Refetches because a token names a kid that {@code seen} does not have; at most once per
     * {@link Settings#unknownKidInterval()}. Completes with the newest keys (possibly still {@code seen}).
     */
    CompletionStage<KeySet> refreshForUnknownKid(String source, KeySet seen) {
        Entry e = entry(source);
        long now = clock.millis();
        State s = e.state.get();
        if (s.inflight != null) {
            return s.inflight.exceptionally(t -> seen);
        }
        if (s.keys != null && s.keys != seen) {
            return CompletableFuture.completedFuture(s.keys); // someone refreshed meanwhile
        }
        if (now - s.lastKidRefresh < settings.unknownKidInterval().toMillis() || now < s.nextAttempt) {
            return CompletableFuture.completedFuture(seen);
        }
        return start(e, now, true).exceptionally(t -> seen);
    }

    /** Parses an inline {@code jwks} once; the same text always yields the same key set. */
    KeySet inline(String json) throws ParseException {
        KeySet k = inline.get(json);
        if (k == null) {
            k = KeySet.parse(json);
            if (inline.size() > MAX_ENTRIES) {
                inline.clear();
            }
            inline.put(json, k);
        }
        return k;
    }

    private Entry entry(String source) {
        Entry e = remote.get(source);
        if (e == null) {
            if (remote.size() >= MAX_ENTRIES) {
                evictOldest();
            }
            e = remote.computeIfAbsent(source, Entry::new);
        }
        e.lastUsed = clock.millis();
        return e;
    }

    private void evictOldest() {
        Entry oldest = null;
        for (Entry e : remote.values()) {
            if (oldest == null || e.lastUsed < oldest.lastUsed) {
                oldest = e;
            }
        }
        if (oldest != null) {
            remote.remove(oldest.source, oldest);
        }
    }

    /** Claims the fetch for this entry (one at a time) and starts it; joins the running one otherwise. */
    private CompletableFuture<KeySet> start(Entry e, long now, boolean forKid) {
        var mine = new CompletableFuture<KeySet>();
        while (true) {
            State s = e.state.get();
            if (s.inflight != null) {
                return s.inflight;
            }
            var claimed = s.with(mine, forKid ? now : s.lastKidRefresh);
            if (e.state.compareAndSet(s, claimed)) {
                break;
            }
        }
        CompletionStage<KeySet> fetch;
        try {
            fetch = e.source.startsWith(DISCOVER)
                    ? fetcher.discover(e.source.substring(DISCOVER.length()))
                    : fetcher.fetch(URI.create(e.source));
        } catch (RuntimeException ex) {
            fetch = CompletableFuture.failedFuture(ex);
        }
        fetch.whenComplete((keys, error) -> finish(e, mine, keys, error));
        return mine;
    }

    private void finish(Entry e, CompletableFuture<KeySet> mine, KeySet keys, Throwable error) {
        long now = clock.millis();
        while (true) {
            State s = e.state.get();
            State next;
            if (error == null) {
                next = new State(keys, now, null, s.lastKidRefresh, 0, 0, null);
            } else {
                int failures = Math.min(s.failures + 1, 30);
                long backoff = Math.min(
                        settings.retryMax().toMillis(), settings.retryMin().toMillis() << Math.min(failures - 1, 20));
                next = new State(s.keys, s.fetchedAt, null, s.lastKidRefresh, now + backoff, failures, message(error));
            }
            if (e.state.compareAndSet(s, next)) {
                break;
            }
        }
        if (error == null) {
            if (!keys.problems().isEmpty()) {
                log.warn("JWKS {}: skipped unusable keys: {}", e.source, keys.problems());
            }
            log.debug("JWKS {}: fetched {} keys", e.source, keys.keys().size());
            mine.complete(keys);
        } else {
            log.warn(
                    "JWKS {}: fetch failed, tokens of this issuer are refused until keys are had: {}",
                    e.source,
                    message(error));
            mine.completeExceptionally(new JwksUnavailableException(e.source + ": " + message(error)));
        }
    }

    static String message(Throwable t) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    /** The source key of a rule that has neither {@code jwks} nor {@code jwksUri}. */
    static final String DISCOVER = "discover:";

    @Override
    public void close() {
        fetcher.close();
    }
}
