package io.ambit.hbone.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The EEVDF slice as the kernel reports it back (sched_getattr), on a thread of its own. */
class ThreadSliceTest {
    @Test
    void aThreadGetsTheSliceItAsksForAndCanGoBackToTheDefault() throws Exception {
        var result = new CompletableFuture<long[]>();
        Thread.ofPlatform().start(() -> {
            try {
                long before = ThreadSlice.currentNanos();
                assertThat(ThreadSlice.applyToCurrentThread(150)).isEmpty();
                long set = ThreadSlice.currentNanos();
                assertThat(ThreadSlice.applyToCurrentThread(0)).isEmpty();
                result.complete(new long[] {before, set, ThreadSlice.currentNanos()});
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        long[] seen = result.get(10, TimeUnit.SECONDS);
        assertThat(seen[1]).isEqualTo(150_000);
        assertThat(seen[0]).isPositive().isNotEqualTo(150_000); // the kernel's base slice
        assertThat(seen[2]).isEqualTo(seen[0]);
    }

    @Test
    void configurationIsMicrosecondsInTheKernelsRange() {
        String env = ThreadSlice.ENV;
        assertThat(ThreadSlice.configuredMicros(null, Map.of())).isZero();
        assertThat(ThreadSlice.configuredMicros("200", Map.of(env, "300"))).isEqualTo(200);
        assertThat(ThreadSlice.configuredMicros(null, Map.of(env, "300"))).isEqualTo(300);
        assertThatThrownBy(() -> ThreadSlice.configuredMicros("50", Map.of()))
                .hasMessage("ambit.eventLoopSliceMicros: \"50\" (expected: microseconds from 100 to 100000, or 0 for"
                        + " the kernel's default)");
        assertThatThrownBy(() -> ThreadSlice.configuredMicros(null, Map.of(env, "fast")))
                .hasMessageStartingWith("AMBIT_EVENT_LOOP_SLICE_US: \"fast\"");
    }
}
