package io.ambit.waypoint.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The loop's coarse timeouts: an entry fires once its time has passed (never before), a cancel or a later
 * re-arm keeps it from firing, expiries may arm and cancel others, and one failing expiry does not stop the
 * rest. Time is a fake clock; the tick is an hour so only the test's own {@code tick()} calls fire anything.
 */
class DeadlinesTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final AtomicLong now = new AtomicLong(1_000 * SECOND);
    private final Deadlines deadlines = new Deadlines(loop, Duration.ofHours(1), now::get);
    private final List<String> fired = new ArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    private Deadlines.Entry entry(String name) {
        return new Deadlines.Entry() {
            @Override
            protected void expired() {
                fired.add(name);
            }
        };
    }

    private void advanceAndTick(long nanos) throws Exception {
        onLoop(() -> {
            now.addAndGet(nanos);
            deadlines.tick();
            return null;
        });
    }

    @Test
    void anEntryFiresOnceItsTimeHasPassedAndNotBefore() throws Exception {
        var a = entry("a");
        onLoop(() -> {
            deadlines.arm(a, 5 * SECOND);
            return null;
        });
        advanceAndTick(4 * SECOND);
        assertThat(fired).isEmpty();
        assertThat(a.armed()).isTrue();
        advanceAndTick(SECOND);
        assertThat(fired).containsExactly("a");
        assertThat(a.armed()).isFalse();
        advanceAndTick(10 * SECOND);
        assertThat(fired).as("fires once").containsExactly("a");
    }

    @Test
    void aCancelledOrRearmedEntryDoesNotFireAtTheOldTime() throws Exception {
        var cancelled = entry("cancelled");
        var rearmed = entry("rearmed");
        onLoop(() -> {
            deadlines.arm(cancelled, SECOND);
            deadlines.arm(rearmed, SECOND);
            deadlines.cancel(cancelled);
            deadlines.cancel(cancelled); // twice: nothing
            deadlines.arm(rearmed, 3 * SECOND);
            return null;
        });
        advanceAndTick(2 * SECOND);
        assertThat(fired).isEmpty();
        assertThat(onLoop(deadlines::armedCount)).isEqualTo(1);
        advanceAndTick(SECOND);
        assertThat(fired).containsExactly("rearmed");
        assertThat(onLoop(deadlines::armedCount)).isZero();
    }

    @Test
    void anExpiryMayCancelAnotherDueEntryAndArmItself() throws Exception {
        var second = entry("second");
        var first = new Deadlines.Entry() {
            @Override
            protected void expired() {
                fired.add("first");
                deadlines.cancel(second); // due in the same tick, but its owner cancelled it
                deadlines.arm(this, SECOND); // e.g. a stream idle timeout checking again
            }
        };
        onLoop(() -> {
            deadlines.arm(first, SECOND);
            deadlines.arm(second, SECOND);
            return null;
        });
        advanceAndTick(SECOND);
        assertThat(fired).containsExactly("first");
        assertThat(first.armed()).isTrue();
        advanceAndTick(SECOND);
        assertThat(fired).containsExactly("first", "first");
    }

    @Test
    void aFailingExpiryDoesNotStopTheOthers() throws Exception {
        var failing = new Deadlines.Entry() {
            @Override
            protected void expired() {
                throw new IllegalStateException("owner bug");
            }
        };
        var after = entry("after");
        onLoop(() -> {
            deadlines.arm(failing, SECOND);
            deadlines.arm(after, SECOND);
            return null;
        });
        advanceAndTick(SECOND);
        assertThat(fired).containsExactly("after");
        assertThat(failing.armed()).isFalse();
    }

    @Test
    void theLoopTicksByItselfWhileAnythingIsArmed() throws Exception {
        var real = new Deadlines(loop, Duration.ofMillis(10), System::nanoTime);
        var done = new java.util.concurrent.CountDownLatch(2);
        var a = new Deadlines.Entry() {
            @Override
            protected void expired() {
                done.countDown();
                if (done.getCount() > 0) {
                    real.arm(this, TimeUnit.MILLISECONDS.toNanos(20)); // armed again after the ticking stopped
                }
            }
        };
        onLoop(() -> {
            real.arm(a, TimeUnit.MILLISECONDS.toNanos(20));
            return null;
        });
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(onLoop(real::armedCount)).isZero();
    }
}
