package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The upstream-answer cache with an injected clock: TTLs, ageing, what is not kept, and its bound. */
class AnswerCacheTest {
    final AtomicLong now = new AtomicLong(1_000_000_000L);
    final AnswerCache cache = new AnswerCache(2, now::get);

    static Question q(String name, int type) {
        return new Question(1, 0, true, name, type, 1, 512, false);
    }

    static DnsReply answer(long ttl) {
        return new DnsReply(
                DnsReply.NOERROR,
                false,
                List.of(new Rr("a.test", 1, 1, ttl, new byte[] {1, 2, 3, 4})),
                List.of(),
                List.of());
    }

    void advanceSeconds(long s) {
        now.addAndGet(s * 1_000_000_000L);
    }

    @Test
    void anAnswerIsKeptForItsTtlAndHandedOutWithTheTtlAged() {
        var key = AnswerCache.Key.of(q("A.Test", 1));
        cache.put(key, answer(60));
        advanceSeconds(10);
        var hit = cache.get(AnswerCache.Key.of(q("a.test", 1)));
        assertThat(hit).isNotNull();
        assertThat(hit.answers().getFirst().ttl()).isEqualTo(50);
        advanceSeconds(50);
        assertThat(cache.get(key)).as("expired at its TTL").isNull();
    }

    @Test
    void nxdomainIsKeptForItsSoaTtlAndFailuresAndEmptyAnswersAreNot() {
        var soa = new Rr("test", 6, 1, 300, new byte[22]);
        var nx = new DnsReply(DnsReply.NXDOMAIN, false, List.of(), List.of(soa), List.of());
        var nxKey = AnswerCache.Key.of(q("missing.test", 1));
        cache.put(nxKey, nx);
        advanceSeconds(299);
        assertThat(cache.get(nxKey)).isNotNull();
        advanceSeconds(1);
        assertThat(cache.get(nxKey)).isNull();

        var failKey = AnswerCache.Key.of(q("fail.test", 1));
        cache.put(failKey, DnsReply.error(DnsReply.SERVFAIL));
        assertThat(cache.get(failKey)).isNull();
        cache.put(failKey, new DnsReply(DnsReply.NOERROR, false, List.of(), List.of(), List.of()));
        assertThat(cache.get(failKey))
                .as("nothing says how long an empty answer holds")
                .isNull();
    }

    @Test
    void aLongTtlIsCappedAndTheLeastRecentlyUsedGoesFirst() {
        var a = AnswerCache.Key.of(q("a.test", 1));
        var b = AnswerCache.Key.of(q("b.test", 1));
        var c = AnswerCache.Key.of(q("c.test", 1));
        cache.put(a, answer(86_400));
        cache.put(b, answer(60));
        assertThat(cache.get(a)).isNotNull(); // a is now the most recently used
        cache.put(c, answer(60));
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get(b)).as("least recently used: evicted").isNull();
        advanceSeconds(AnswerCache.MAX_TTL_SECONDS);
        assertThat(cache.get(a))
                .as("kept at most " + AnswerCache.MAX_TTL_SECONDS + " s")
                .isNull();
    }

    @Test
    void theTypeIsPartOfTheKey() {
        cache.put(AnswerCache.Key.of(q("a.test", 1)), answer(60));
        assertThat(cache.get(AnswerCache.Key.of(q("a.test", 28)))).isNull();
    }
}
