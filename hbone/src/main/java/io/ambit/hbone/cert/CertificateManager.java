package io.ambit.hbone.cert;

import io.ambit.hbone.identity.PeerIdentities;
import io.ambit.hbone.identity.PeerIdentityException;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.metrics.HboneMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One certificate per identity, fetched from a {@link CertificateSource} on first use or ahead of time,
 * rotated before it expires, and kept while the CA is down (ztunnel's secret manager, §3.3).
 *
 * <ul>
 *   <li><b>Fetch.</b> {@link #certificate} answers at once with a valid certificate, else starts a fetch
 *       (real-time priority) and completes when it ends. {@link #prefetch} starts one at warm-up priority.
 *       At most {@code maxInFlight} (8) issuance calls run at once, on the given executor, never on the
 *       caller's thread; the rest wait in a queue ordered real-time, then warm-up, then background
 *       (rotations), first come first served within a class.
 *   <li><b>Rotation.</b> A certificate is refreshed at {@code notBefore + lifetime × (rotateAt − jitter ×
 *       u)}, u uniform in [0, 1): by default at half its life, up to 5 % of its life earlier, so that
 *       identities issued together do not renew together. A certificate handed over already past that point
 *       (a static file, a lifetime capped by the CA) is kept and re-fetched with the retry backoff instead of
 *       in a tight loop.
 *   <li><b>CA down.</b> A failed fetch is retried per identity with {@link RetryBackoff} (0.5 s doubling to
 *       150 s, ±20 %). A still-valid certificate stays in use until it expires. Without one the identity is
 *       unavailable: waiting callers, and callers until the next attempt starts, get the CA's error (the data
 *       path's {@code IDENTITY_ERROR}).
 *   <li><b>Swap.</b> A new certificate replaces the old one atomically; {@link #current} and {@link
 *       #certificate} never block on a fetch and read it lock-free. Listeners are told of each new
 *       certificate, on the thread that fetched it, one identity's certificates in order (a certificate
 *       superseded before it could be announced is skipped). Live connections keep the certificate they
 *       were opened with.
 *   <li><b>Checks.</b> What the CA returns must be for the identity asked for (the leaf's SPIFFE URI SAN,
 *       ztunnel's impersonation check) and valid now; otherwise it counts as a failure.
 *   <li><b>Metrics.</b> {@value #EXPIRY_METRIC}{identity} (gauge: the certificate's {@code notAfter}, in
 *       seconds since the epoch), {@value #ROTATIONS_METRIC}{identity} (counter: a certificate replaced
 *       by a new one) and {@value #FAILURES_METRIC}{identity} (counter: failed fetches). {@link #forget}
 *       removes an identity's series.
 * </ul>
 *
 * <p>Time comes only from the injected {@link Clock} and {@link Scheduler}, so tests run on a fake clock.
 * One lock guards the bookkeeping; it is never held while calling the CA, the executor or listeners.
 */
public final class CertificateManager implements AutoCloseable {
    /**
     * The expiry gauge. No upstream metric exists (ztunnel-reference §7.1, istio/ztunnel#1748); the name and
     * the {@code identity} label are those of the open proposal istio/ztunnel#1889.
     */
    public static final String EXPIRY_METRIC = HboneMetrics.CERT_EXPIRY;
    /** Counter of certificates replaced by a new one (the first certificate of an identity is not one). */
    public static final String ROTATIONS_METRIC = HboneMetrics.CERT_ROTATIONS;
    /** Counter of failed fetches: the CA failed, or returned something unusable. */
    public static final String FAILURES_METRIC = HboneMetrics.CERT_FAILURES;
    /** The label holding the SPIFFE URI. */
    public static final String IDENTITY_TAG = HboneMetrics.IDENTITY;

    private static final Logger LOG = LoggerFactory.getLogger(CertificateManager.class);

    /**
     * Told of each new certificate, on the thread that fetched it; should be quick (swap a reference, e.g.
     * the TLS context that new handshakes use).
     */
    @FunctionalInterface
    public interface Listener {
        void certificateChanged(WorkloadCertificate certificate);
    }

    private enum Priority {
        REAL_TIME,
        WARMUP,
        BACKGROUND
    }

    private final CertificateSource source;
    private final Scheduler scheduler;
    private final Executor executor;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Duration ttl;
    private final double rotateAt;
    private final double rotationJitter;
    private final RetryBackoff backoff;
    private final int maxInFlight;
    private final DoubleSupplier random;

    private final ConcurrentHashMap<SpiffeId, Entry> entries = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    // guarded by lock
    private final PriorityQueue<Entry> pending =
            new PriorityQueue<>(Comparator.comparing((Entry e) -> e.queued).thenComparingLong(e -> e.queuedSeq));
    private int inFlight;
    private long sequence;
    private boolean closed;

    private static final class Entry {
        final SpiffeId id;
        volatile WorkloadCertificate cert;
        volatile boolean forgotten;
        // guarded by the manager's lock
        Priority queued;
        long queuedSeq;
        boolean fetching;
        List<CompletableFuture<WorkloadCertificate>> waiters = new ArrayList<>();
        Scheduler.Cancellable timer;
        long timerGeneration;
        int retries;
        CertificateSourceException lastError;
        long issued;
        Counter rotations;
        Counter failures;
        Gauge expiry;
        // guarded by this entry's monitor: the last certificate number told to listeners
        long announced;

        Entry(SpiffeId id) {
            this.id = id;
        }
    }

    private CertificateManager(Builder b) {
        this.source = b.source;
        this.scheduler = b.scheduler;
        this.executor = b.executor;
        this.clock = b.clock;
        this.registry = b.registry;
        this.ttl = b.ttl;
        this.rotateAt = b.rotateAt;
        this.rotationJitter = b.rotationJitter;
        this.backoff = b.backoff;
        this.maxInFlight = b.maxInFlight;
        this.random = b.random;
    }

    /**
     * A builder for a manager over {@code source}, timing with {@code scheduler}, calling the CA on {@code
     * executor}.
     */
    public static Builder builder(CertificateSource source, Scheduler scheduler, Executor executor) {
        return new Builder(source, scheduler, executor);
    }

    /**
     * The certificate for {@code identity}: completed at once when a valid one is held, otherwise when a
     * fetch ends. Fails with the CA's {@link CertificateSourceException} when there is no valid certificate
     * and the last fetch failed (until the next retry starts), and when the identity is forgotten or the
     * manager closed while waiting. Each caller gets its own future; cancelling it affects no one else.
     */
    public CompletableFuture<WorkloadCertificate> certificate(SpiffeId identity) {
        WorkloadCertificate held = current(identity).orElse(null);
        if (held != null) {
            return CompletableFuture.completedFuture(held);
        }
        var result = new CompletableFuture<WorkloadCertificate>();
        List<Entry> start;
        lock.lock();
        try {
            if (closed) {
                return CompletableFuture.failedFuture(new CertificateSourceException("certificate manager is closed"));
            }
            Entry e = entry(identity);
            WorkloadCertificate c = e.cert;
            if (c != null && c.validAt(clock.instant())) {
                return CompletableFuture.completedFuture(c);
            }
            if (!e.fetching && e.queued == null && e.lastError != null) {
                return CompletableFuture.failedFuture(e.lastError); // unavailable until the scheduled retry
            }
            e.waiters.add(result);
            request(e, Priority.REAL_TIME);
            start = drain();
        } finally {
            lock.unlock();
        }
        start(start);
        return result;
    }

    /** The valid certificate held for {@code identity}, if any; never blocks, never fetches. */
    public Optional<WorkloadCertificate> current(SpiffeId identity) {
        Entry e = entries.get(identity);
        WorkloadCertificate c = e == null ? null : e.cert;
        return c != null && c.validAt(clock.instant()) ? Optional.of(c) : Optional.empty();
    }

    /**
     * Starts fetching {@code identity}'s certificate at warm-up priority, unless one is held, being fetched,
     * or waiting for a retry.
     */
    public void prefetch(SpiffeId identity) {
        List<Entry> start;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            Entry e = entry(identity);
            WorkloadCertificate c = e.cert;
            if ((c != null && c.validAt(clock.instant())) || e.fetching || e.queued != null || e.lastError != null) {
                return;
            }
            request(e, Priority.WARMUP);
            start = drain();
        } finally {
            lock.unlock();
        }
        start(start);
    }

    /**
     * Drops {@code identity}: its certificate, timers, queued fetch and metric series. Callers still waiting
     * fail; a fetch in flight finishes and is discarded.
     */
    public void forget(SpiffeId identity) {
        List<CompletableFuture<WorkloadCertificate>> waiters;
        lock.lock();
        try {
            Entry e = entries.remove(identity);
            if (e == null) {
                return;
            }
            waiters = drop(e);
        } finally {
            lock.unlock();
        }
        var error = new CertificateSourceException(identity + " was forgotten while waiting for its certificate");
        waiters.forEach(f -> f.completeExceptionally(error));
    }

    /** The identities held (with or without a valid certificate). */
    public Set<SpiffeId> identities() {
        return Set.copyOf(entries.keySet());
    }

    /** Registers {@code listener} for every new certificate from now on (not for those already held). */
    public Subscription addListener(Listener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Forgets every identity and stops scheduling; fetches in flight finish and are discarded. */
    @Override
    public void close() {
        List<CompletableFuture<WorkloadCertificate>> waiters = new ArrayList<>();
        lock.lock();
        try {
            closed = true;
            for (Entry e : entries.values()) {
                waiters.addAll(drop(e));
            }
            entries.clear();
            pending.clear();
        } finally {
            lock.unlock();
        }
        var error = new CertificateSourceException("certificate manager closed while waiting for a certificate");
        waiters.forEach(f -> f.completeExceptionally(error));
    }

    // ---- under the lock

    private Entry entry(SpiffeId id) {
        return entries.computeIfAbsent(id, key -> {
            var e = new Entry(key);
            e.rotations = Counter.builder(ROTATIONS_METRIC)
                    .description("Workload certificates replaced by a newly issued one")
                    .tag(IDENTITY_TAG, key.toString())
                    .register(registry);
            e.failures = Counter.builder(FAILURES_METRIC)
                    .description("Failed workload certificate fetches")
                    .tag(IDENTITY_TAG, key.toString())
                    .register(registry);
            return e;
        });
    }

    /** Queues a fetch at {@code priority}, or raises the priority of one queued; nothing if one runs. */
    private void request(Entry e, Priority priority) {
        if (e.fetching) {
            return;
        }
        if (e.queued != null) {
            if (priority.compareTo(e.queued) < 0) {
                pending.remove(e);
                e.queued = priority;
                pending.add(e);
            }
            return;
        }
        cancelTimer(e);
        e.queued = priority;
        e.queuedSeq = ++sequence;
        pending.add(e);
    }

    /** Takes queued fetches while fewer than {@code maxInFlight} run; the caller starts them after unlocking. */
    private List<Entry> drain() {
        List<Entry> start = new ArrayList<>();
        while (inFlight < maxInFlight && !pending.isEmpty()) {
            Entry e = pending.poll();
            e.queued = null;
            e.fetching = true;
            inFlight++;
            start.add(e);
        }
        return start;
    }

    private void schedule(Entry e, Duration delay) {
        cancelTimer(e);
        long generation = e.timerGeneration;
        e.timer = scheduler.schedule(delay, () -> timerFired(e, generation));
    }

    private void cancelTimer(Entry e) {
        e.timerGeneration++;
        if (e.timer != null) {
            e.timer.cancel();
            e.timer = null;
        }
    }

    private List<CompletableFuture<WorkloadCertificate>> drop(Entry e) {
        e.forgotten = true;
        cancelTimer(e);
        if (e.queued != null) {
            pending.remove(e);
            e.queued = null;
        }
        registry.remove(e.rotations);
        registry.remove(e.failures);
        if (e.expiry != null) {
            registry.remove(e.expiry);
        }
        return takeWaiters(e);
    }

    private static List<CompletableFuture<WorkloadCertificate>> takeWaiters(Entry e) {
        var waiters = e.waiters;
        e.waiters = new ArrayList<>();
        return waiters;
    }

    // ---- off the lock

    private void start(List<Entry> fetches) {
        for (Entry e : fetches) {
            try {
                executor.execute(() -> fetch(e));
            } catch (RejectedExecutionException x) {
                completed(
                        e,
                        null,
                        new CertificateSourceException("the issuance executor rejected the fetch for " + e.id, x));
            }
        }
    }

    private void timerFired(Entry e, long generation) {
        List<Entry> start;
        lock.lock();
        try {
            if (closed || e.forgotten || generation != e.timerGeneration) {
                return; // cancelled, superseded, or forgotten after it was due
            }
            e.timer = null;
            request(e, Priority.BACKGROUND);
            start = drain();
        } finally {
            lock.unlock();
        }
        start(start);
    }

    private void fetch(Entry e) {
        WorkloadCertificate cert = null;
        CertificateSourceException error = null;
        try {
            cert = source.issue(e.id, ttl);
            check(e.id, cert);
        } catch (CertificateSourceException x) {
            error = x;
        } catch (RuntimeException x) {
            error = new CertificateSourceException("the certificate source failed for " + e.id + ": " + x, x);
        }
        completed(e, error == null ? cert : null, error);
    }

    /** What the CA returned must be for the identity asked for and valid now. */
    private void check(SpiffeId id, WorkloadCertificate cert) throws CertificateSourceException {
        if (cert == null) {
            throw new CertificateSourceException("the certificate source returned nothing for " + id);
        }
        SpiffeId leafId;
        try {
            leafId = PeerIdentities.of(cert.leaf());
        } catch (PeerIdentityException x) {
            throw new CertificateSourceException(
                    "the CA returned an unusable certificate for " + id + ": " + x.getMessage(), x);
        }
        if (!leafId.equals(id) || !cert.identity().equals(id)) {
            throw new CertificateSourceException("the CA returned a certificate for " + leafId + " when " + id
                    + " was requested (expected the requested identity as the URI SAN)");
        }
        Instant now = clock.instant();
        if (!cert.validAt(now)) {
            throw new CertificateSourceException("the CA returned a certificate for " + id + " valid from "
                    + cert.notBefore() + " to " + cert.notAfter() + ", not now (" + now + ")");
        }
    }

    private void completed(Entry e, WorkloadCertificate cert, CertificateSourceException error) {
        List<CompletableFuture<WorkloadCertificate>> waiters = List.of();
        List<Entry> start;
        long number = 0;
        Duration next = null;
        boolean keptValid = false;
        lock.lock();
        try {
            inFlight--;
            e.fetching = false;
            if (!closed && !e.forgotten) {
                Instant now = clock.instant();
                if (error == null) {
                    WorkloadCertificate previous = e.cert;
                    if (previous == null || !previous.leaf().equals(cert.leaf())) {
                        // the same leaf again (a static file re-read) is neither a rotation nor news
                        if (previous != null) {
                            e.rotations.increment();
                        }
                        e.cert = cert;
                        number = ++e.issued;
                    }
                    e.lastError = null;
                    if (e.expiry == null) {
                        e.expiry = Gauge.builder(EXPIRY_METRIC, e, CertificateManager::expirySeconds)
                                .description("When the workload certificate expires, in seconds since the epoch")
                                .tag(IDENTITY_TAG, e.id.toString())
                                .strongReference(true)
                                .register(registry);
                    }
                    Instant refreshAt = refreshAt(cert);
                    if (refreshAt.isAfter(now)) {
                        e.retries = 0;
                        next = Duration.between(now, refreshAt);
                    } else {
                        next = backoff.delay(e.retries++, random.getAsDouble());
                    }
                } else {
                    e.failures.increment();
                    e.lastError = error;
                    next = backoff.delay(e.retries++, random.getAsDouble());
                    keptValid = e.cert != null && e.cert.validAt(now);
                }
                waiters = takeWaiters(e);
                schedule(e, next);
            }
            start = drain();
        } finally {
            lock.unlock();
        }
        start(start);
        if (error == null) {
            WorkloadCertificate held = e.cert;
            waiters.forEach(f -> f.complete(held));
            if (number > 0) {
                announce(e, number, cert);
            }
        } else {
            if (next != null) {
                LOG.warn(
                        "certificate for {}: {}; {}; retrying in {} ms",
                        e.id,
                        error.getMessage(),
                        keptValid ? "keeping the current certificate until it expires" : "identity unavailable",
                        next.toMillis());
            }
            waiters.forEach(f -> f.completeExceptionally(error));
        }
    }

    private void announce(Entry e, long number, WorkloadCertificate cert) {
        synchronized (e) {
            if (number <= e.announced || e.forgotten) {
                return; // a newer certificate was announced already
            }
            e.announced = number;
            for (Listener listener : listeners) {
                try {
                    listener.certificateChanged(cert);
                } catch (RuntimeException x) {
                    LOG.warn("certificate listener {} failed for {}", listener, e.id, x);
                }
            }
        }
    }

    private Instant refreshAt(WorkloadCertificate cert) {
        double fraction = rotateAt - rotationJitter * random.getAsDouble();
        return cert.notBefore().plusNanos((long) (cert.lifetime().toNanos() * fraction));
    }

    private static double expirySeconds(Entry e) {
        WorkloadCertificate c = e.cert;
        return c == null ? Double.NaN : c.notAfter().getEpochSecond();
    }

    /** Settings of a {@link CertificateManager}; every one but the three given to {@code builder} has a default. */
    public static final class Builder {
        private final CertificateSource source;
        private final Scheduler scheduler;
        private final Executor executor;
        private Clock clock = Clock.systemUTC();
        private MeterRegistry registry = new CompositeMeterRegistry();
        private Duration ttl = Duration.ofHours(24);
        private double rotateAt = 0.5;
        private double rotationJitter = 0.05;
        private RetryBackoff backoff = RetryBackoff.DEFAULT;
        private int maxInFlight = 8;
        private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

        private Builder(CertificateSource source, Scheduler scheduler, Executor executor) {
            this.source = source;
            this.scheduler = scheduler;
            this.executor = executor;
        }

        /** The time source for validity and rotation; default the system UTC clock. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Where the metrics go; default none (an empty composite registry). */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = registry;
            return this;
        }

        /** The lifetime asked of the CA (ztunnel's {@code SECRET_TTL}); default 24 h. */
        public Builder ttl(Duration ttl) {
            if (ttl.isNegative() || ttl.isZero()) {
                throw new IllegalArgumentException("ttl: " + ttl + " (expected > 0)");
            }
            this.ttl = ttl;
            return this;
        }

        /** The fraction of a certificate's life after which it is refreshed; default 0.5. */
        public Builder rotateAt(double fraction) {
            if (!(fraction > 0.0 && fraction < 1.0)) {
                throw new IllegalArgumentException("rotateAt: " + fraction + " (expected in (0, 1))");
            }
            this.rotateAt = fraction;
            return this;
        }

        /** Up to how much of the life earlier than {@code rotateAt} a refresh may happen; default 0.05. */
        public Builder rotationJitter(double fraction) {
            if (!(fraction >= 0.0 && fraction < 1.0)) {
                throw new IllegalArgumentException("rotationJitter: " + fraction + " (expected in [0, 1))");
            }
            this.rotationJitter = fraction;
            return this;
        }

        /** The retry schedule while the CA fails; default {@link RetryBackoff#DEFAULT}. */
        public Builder backoff(RetryBackoff backoff) {
            this.backoff = backoff;
            return this;
        }

        /** How many issuance calls may run at once; default 8. */
        public Builder maxInFlight(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxInFlight: " + max + " (expected > 0)");
            }
            this.maxInFlight = max;
            return this;
        }

        /** Uniform samples in [0, 1) for both jitters; default {@link ThreadLocalRandom}. */
        public Builder random(DoubleSupplier random) {
            this.random = random;
            return this;
        }

        public CertificateManager build() {
            if (rotationJitter >= rotateAt) {
                throw new IllegalArgumentException(
                        "rotationJitter " + rotationJitter + " (expected < rotateAt " + rotateAt + ")");
            }
            return new CertificateManager(this);
        }
    }
}
