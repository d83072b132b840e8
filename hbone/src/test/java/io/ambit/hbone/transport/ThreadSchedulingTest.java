package io.ambit.hbone.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The event loops' scheduling policy as the kernel reports it ({@code /proc/thread-self/stat}, field 41),
 * not as our own call claims: the call is made through FFM and a wrong struct or constant would go
 * unnoticed otherwise.
 */
class ThreadSchedulingTest {
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_BATCH = 3;

    @Test
    void batchLoopsRunUnderSchedBatchAndTheCallerKeepsItsPolicy() throws Exception {
        int before = currentPolicy();
        List<Integer> policies = loopPolicies(ThreadScheduling.Policy.BATCH);
        assertThat(policies).hasSize(2).containsOnly(SCHED_BATCH);
        assertThat(currentPolicy()).isEqualTo(before);
    }

    @Test
    void normalLoopsInheritTheCreatorsPolicy() throws Exception {
        // "normal" changes nothing: the loops run as the thread that made them (SCHED_OTHER unless the whole
        // JVM was started under chrt)
        assertThat(loopPolicies(ThreadScheduling.Policy.NORMAL)).hasSize(2).containsOnly(currentPolicy());
    }

    @Test
    void aThreadCanGoToBatchAndBack() throws Exception {
        var result = new CompletableFuture<List<Integer>>();
        Thread.ofPlatform().start(() -> {
            try {
                var seen = new ArrayList<Integer>();
                assertThat(ThreadScheduling.applyToCurrentThread(ThreadScheduling.Policy.BATCH))
                        .isEmpty();
                seen.add(currentPolicy());
                assertThat(ThreadScheduling.applyToCurrentThread(ThreadScheduling.Policy.NORMAL))
                        .isEmpty();
                seen.add(currentPolicy());
                result.complete(seen);
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        assertThat(result.get(10, TimeUnit.SECONDS)).containsExactly(SCHED_BATCH, SCHED_OTHER);
    }

    @Test
    void aRefusedCallReportsTheErrnoAndChangesNothing() throws Exception {
        int before = currentPolicy();
        // 99 is no policy: the kernel answers EINVAL (22)
        assertThat(ThreadScheduling.setCurrentThread(99)).hasValueSatisfying(problem -> assertThat(problem)
                .contains("sched_setscheduler(0, 99)")
                .contains("errno 22"));
        assertThat(currentPolicy()).isEqualTo(before);
    }

    @Test
    void configurationComesFromThePropertyThenTheEnvironment() {
        String env = ThreadScheduling.ENV;
        assertThat(ThreadScheduling.configured(null, Map.of())).isEqualTo(ThreadScheduling.Policy.NORMAL);
        assertThat(ThreadScheduling.configured(" BATCH ", Map.of())).isEqualTo(ThreadScheduling.Policy.BATCH);
        assertThat(ThreadScheduling.configured(null, Map.of(env, "batch"))).isEqualTo(ThreadScheduling.Policy.BATCH);
        assertThat(ThreadScheduling.configured("normal", Map.of(env, "batch")))
                .isEqualTo(ThreadScheduling.Policy.NORMAL);
        assertThat(ThreadScheduling.configured("", Map.of(env, ""))).isEqualTo(ThreadScheduling.Policy.NORMAL);
    }

    @Test
    void aMalformedSettingNamesItselfAndTheChoices() {
        assertThatThrownBy(() -> ThreadScheduling.configured("fifo", Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ambit.eventLoopScheduling: \"fifo\" (expected: normal or batch)");
        assertThatThrownBy(() -> ThreadScheduling.configured(null, Map.of(ThreadScheduling.ENV, "idle")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("AMBIT_EVENT_LOOP_SCHEDULING: \"idle\" (expected: normal or batch)");
    }

    /** The policy of each of two event loops of the default transport made with {@code policy}. */
    private static List<Integer> loopPolicies(ThreadScheduling.Policy policy) throws Exception {
        EventLoopGroup group = Transports.select().newEventLoopGroup(2, "sched-test", policy);
        try {
            var policies = new ArrayList<Integer>();
            for (EventExecutor loop : group) {
                policies.add(loop.submit(ThreadSchedulingTest::currentPolicy).get(10, TimeUnit.SECONDS));
            }
            return policies;
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }

    /** Field 41 (policy) of the calling thread's {@code /proc/thread-self/stat}. */
    private static int currentPolicy() throws IOException {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        // the command name (field 2) is in parentheses and may hold spaces: count from after it
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(rest[41 - 3]);
    }
}
