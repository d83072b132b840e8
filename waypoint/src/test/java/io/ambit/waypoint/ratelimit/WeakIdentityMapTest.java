package io.ambit.waypoint.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Per-connection state is keyed by the connection object's identity, never by what it equals. */
class WeakIdentityMapTest {
    record Description(String peer, String target) {}

    @Test
    void twoEqualKeysAreTwoEntriesAndTheSameKeyIsOne() {
        var map = new WeakIdentityMap<Object>();
        var a = new Description("spiffe://cluster.local/ns/shop/sa/client", "search:80");
        var b = new Description("spiffe://cluster.local/ns/shop/sa/client", "search:80");
        assertThat(a).isEqualTo(b);
        Object forA = map.get(a, Object::new);
        Object forB = map.get(b, Object::new);
        assertThat(forA).isNotSameAs(forB);
        assertThat(map.get(a, Object::new)).isSameAs(forA);
        assertThat(map.size()).isEqualTo(2);
    }

    @Test
    void perConnectionLimitsTakeFromTheBucketOfTheirOwnConnection() {
        var limits = new RateLimits(Ticker.SYSTEM, Sampler.RANDOM);
        var a = new Description("p", "t");
        var b = new Description("p", "t");
        assertThat(limits.connection(a)).isSameAs(limits.connection(a)).isNotSameAs(limits.connection(b));
        assertThat(limits.connection(null)).isNull();
    }
}
