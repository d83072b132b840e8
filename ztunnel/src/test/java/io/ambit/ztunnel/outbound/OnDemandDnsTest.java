package io.ambit.ztunnel.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The on-demand resolver's cache and bounds, with a counting resolver and an injected clock: answers kept for
 * 30 s and asked again after; one lookup per name at a time; failures not kept; the cache and the lookups in
 * flight bounded.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OnDemandDnsTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final AtomicInteger calls = new AtomicInteger();

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private OnDemandDns counting() {
        return new OnDemandDns(
                host -> {
                    calls.incrementAndGet();
                    if (host.startsWith("missing")) {
                        throw new UnknownHostException(host);
                    }
                    return List.of(ip("127.151.7." + (calls.get() % 250)));
                },
                now::get);
    }

    private static List<InetAddress> get(CompletableFuture<List<InetAddress>> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void anAnswerIsKeptThirtySecondsThenAskedAgain() throws Exception {
        var dns = counting();
        var first = get(dns.resolve("api.example.com"));
        assertThat(get(dns.resolve("api.example.com"))).isEqualTo(first);
        assertThat(calls).hasValue(1);
        now.addAndGet(OnDemandDns.TTL.toNanos() - 1);
        assertThat(dns.resolve("api.example.com").isDone())
                .as("still fresh: answered at once")
                .isTrue();
        assertThat(calls).hasValue(1);
        now.addAndGet(1);
        assertThat(get(dns.resolve("api.example.com"))).isNotEqualTo(first);
        assertThat(calls).hasValue(2);
    }

    @Test
    void aFailureNamesTheHostnameAndIsNotKept() throws Exception {
        var dns = counting();
        assertThatThrownBy(() -> get(dns.resolve("missing.example.com")))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("missing.example.com");
        assertThatThrownBy(() -> get(dns.resolve("missing.example.com"))).isInstanceOf(ExecutionException.class);
        assertThat(calls).hasValue(2);
        assertThat(dns.cached()).isZero();
    }

    @Test
    void anEmptyAnswerIsAFailure() {
        var dns = new OnDemandDns(host -> List.of(), now::get);
        assertThatThrownBy(() -> get(dns.resolve("empty.example.com")))
                .cause()
                .isInstanceOf(UnknownHostException.class)
                .hasMessage("empty.example.com: no address");
    }

    @Test
    void aLookupWithoutAnswerInTimeFailsNamingTheHostnameAndTheNextOneAsksAgain() throws Exception {
        var release = new CountDownLatch(1);
        var dns = new OnDemandDns(
                host -> {
                    calls.incrementAndGet();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return List.of(ip("127.151.7.3"));
                },
                now::get,
                java.time.Duration.ofMillis(200));
        assertThatThrownBy(() -> get(dns.resolve("stuck.example.com")))
                .cause()
                .isInstanceOf(UnknownHostException.class)
                .hasMessage("stuck.example.com: no answer within 200 ms");
        release.countDown();
        assertThat(get(dns.resolve("stuck.example.com"))).containsExactly(ip("127.151.7.3"));
        assertThat(calls).hasValue(2);
    }

    @Test
    void concurrentConnectionsShareOneLookup() throws Exception {
        var release = new CountDownLatch(1);
        var dns = new OnDemandDns(
                host -> {
                    calls.incrementAndGet();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return List.of(ip("127.151.7.1"));
                },
                now::get);
        var waiting = new ArrayList<CompletableFuture<List<InetAddress>>>();
        for (int i = 0; i < 20; i++) {
            waiting.add(dns.resolve("slow.example.com"));
        }
        assertThat(waiting).noneMatch(CompletableFuture::isDone);
        release.countDown();
        for (var f : waiting) {
            assertThat(get(f)).containsExactly(ip("127.151.7.1"));
        }
        assertThat(calls).hasValue(1);
    }

    @Test
    void lookupsInFlightAreBoundedAndTheNextFailsAtOnce() throws Exception {
        var release = new CountDownLatch(1);
        var dns = new OnDemandDns(
                host -> {
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return List.of(ip("127.151.7.2"));
                },
                now::get);
        var running = new ArrayList<CompletableFuture<List<InetAddress>>>();
        for (int i = 0; i < OnDemandDns.MAX_IN_FLIGHT; i++) {
            running.add(dns.resolve("n" + i + ".example.com"));
        }
        var refused = dns.resolve("one-too-many.example.com");
        assertThat(refused).isCompletedExceptionally();
        assertThatThrownBy(refused::join)
                .cause()
                .isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("one-too-many.example.com: 64 on-demand DNS lookups are running already");
        release.countDown();
        for (var f : running) {
            get(f);
        }
        assertThat(get(dns.resolve("one-too-many.example.com"))).containsExactly(ip("127.151.7.2"));
    }

    @Test
    void theCacheKeepsAtMostItsBoundLeastRecentlyUsedLeavingFirst() throws Exception {
        var dns = counting();
        get(dns.resolve("first.example.com"));
        for (int i = 0; i < OnDemandDns.MAX_ENTRIES + 10; i++) {
            get(dns.resolve("n" + i + ".example.com"));
        }
        assertThat(dns.cached()).isEqualTo(OnDemandDns.MAX_ENTRIES);
        int before = calls.get();
        get(dns.resolve("first.example.com"));
        assertThat(calls.get()).as("the oldest answer left the cache").isEqualTo(before + 1);
    }
}
