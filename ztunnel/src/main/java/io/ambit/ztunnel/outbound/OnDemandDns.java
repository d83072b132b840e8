package io.ambit.ztunnel.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The on-demand resolution of workloads that have a {@code hostname} and no address (a ServiceEntry with
 * {@code resolution: DNS}), at connect time (ztunnel-reference.md §8; ztunnel's {@code DemandProxyState}).
 *
 * <p>Why the JDK resolver on a virtual thread rather than Netty's {@code DnsNameResolver} on the event loop:
 * the JDK resolver goes through the system's resolver (nsswitch, {@code /etc/hosts}, search domains,
 * resolv.conf options), so a name resolves for the proxy exactly as it does for the application that made the
 * ServiceEntry; a blocking lookup costs a parked virtual thread, never an event loop. It gives no TTL, so
 * answers are kept for a fixed {@link #TTL} — 30 s, the JDK's own positive cache time and the TTL ztunnel's
 * DNS proxy answers with.
 *
 * <p>Bounded: at most {@link #MAX_ENTRIES} answers are kept (the least recently used leaves first); one lookup
 * per hostname runs at a time and every connection that needs the name meanwhile waits for it; at most
 * {@link #MAX_IN_FLIGHT} lookups run at once (more fail at once: a slow resolver must not grow threads
 * without bound); each lookup is given up after {@link #TIMEOUT}. Failures are not kept: the next connection
 * asks again. Thread-safe.
 */
public final class OnDemandDns {
    static final Duration TTL = Duration.ofSeconds(30);
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    static final int MAX_ENTRIES = 1024;
    static final int MAX_IN_FLIGHT = 64;

    /** A blocking name lookup: the JDK's, or a test's. */
    @FunctionalInterface
    public interface Resolver {
        /** Every address of {@code hostname}, in the resolver's order; never empty. */
        List<InetAddress> resolve(String hostname) throws UnknownHostException;
    }

    private static final OnDemandDns SHARED =
            new OnDemandDns(host -> List.of(InetAddress.getAllByName(host)), System::nanoTime);

    private record Answer(List<InetAddress> addresses, long expiresAt) {}

    private final Resolver resolver;
    private final LongSupplier nanoTime;
    private final Duration timeout;
    private final Object lock = new Object();
    /** Answers by hostname, least recently used first; guarded by {@link #lock}. */
    private final LinkedHashMap<String, Answer> answers = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Answer> eldest) {
            return size() > MAX_ENTRIES;
        }
    };
    /** Lookups running, by hostname; guarded by {@link #lock}. */
    private final Map<String, CompletableFuture<List<InetAddress>>> inFlight = new HashMap<>();

    /**
     * @param resolver the blocking lookup, run on a virtual thread
     * @param nanoTime the clock answers expire by
     */
    public OnDemandDns(Resolver resolver, LongSupplier nanoTime) {
        this(resolver, nanoTime, TIMEOUT);
    }

    /** With another lookup timeout (tests: a short one). */
    OnDemandDns(Resolver resolver, LongSupplier nanoTime, Duration timeout) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    }

    /** The process's resolver, with the JDK's lookup: one cache for every proxy, as ztunnel keeps one. */
    public static OnDemandDns shared() {
        return SHARED;
    }

    /**
     * The addresses of {@code hostname}: from the cache when fresh (completed already), else from one lookup
     * off the caller's thread. Never blocks. Completes exceptionally with {@link UnknownHostException} naming the
     * hostname when it does not resolve, does not resolve in time, or too many lookups are running.
     */
    public CompletableFuture<List<InetAddress>> resolve(String hostname) {
        var lookup = new CompletableFuture<List<InetAddress>>();
        CompletableFuture<List<InetAddress>> answer;
        synchronized (lock) {
            Answer a = answers.get(hostname);
            if (a != null) {
                if (a.expiresAt() - nanoTime.getAsLong() > 0) {
                    return CompletableFuture.completedFuture(a.addresses());
                }
                answers.remove(hostname);
            }
            var running = inFlight.get(hostname);
            if (running != null) {
                return running;
            }
            if (inFlight.size() >= MAX_IN_FLIGHT) {
                return CompletableFuture.failedFuture(new UnknownHostException(hostname + ": " + MAX_IN_FLIGHT
                        + " on-demand DNS lookups are running already (expected: fewer at once)"));
            }
            answer = lookup.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .handle((addresses, error) -> settle(hostname, addresses, error))
                    .thenCompose(f -> f);
            inFlight.put(hostname, answer);
        }
        Thread.ofVirtual().name("ambit-dns").start(() -> {
            try {
                var addresses = resolver.resolve(hostname);
                if (addresses == null || addresses.isEmpty()) {
                    throw new UnknownHostException(hostname + ": no address");
                }
                lookup.complete(List.copyOf(addresses));
            } catch (UnknownHostException e) {
                lookup.completeExceptionally(e);
            } catch (RuntimeException e) {
                lookup.completeExceptionally(new UnknownHostException(hostname + ": " + e));
            }
        });
        return answer;
    }

    /** Keeps a good answer, forgets the lookup, and names the hostname in a failure. */
    private CompletableFuture<List<InetAddress>> settle(String hostname, List<InetAddress> addresses, Throwable error) {
        synchronized (lock) {
            inFlight.remove(hostname);
            if (error == null) {
                answers.put(hostname, new Answer(addresses, nanoTime.getAsLong() + TTL.toNanos()));
            }
        }
        if (error == null) {
            return CompletableFuture.completedFuture(addresses);
        }
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
        if (cause instanceof java.util.concurrent.TimeoutException) {
            return CompletableFuture.failedFuture(
                    new UnknownHostException(hostname + ": no answer within " + timeout.toMillis() + " ms"));
        }
        if (cause instanceof UnknownHostException u
                && u.getMessage() != null
                && u.getMessage().contains(hostname)) {
            return CompletableFuture.failedFuture(u);
        }
        return CompletableFuture.failedFuture(new UnknownHostException(
                hostname + ": " + (cause.getMessage() == null ? cause.toString() : cause.getMessage())));
    }

    /** How many answers are kept now (for tests). */
    int cached() {
        synchronized (lock) {
            return answers.size();
        }
    }
}
