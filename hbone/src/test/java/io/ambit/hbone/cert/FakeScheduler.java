package io.ambit.hbone.cert;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;

/** A {@link Scheduler} on a {@link MutableClock}: tasks run only inside {@link #advance}, in due order. */
public final class FakeScheduler implements Scheduler {
    private final MutableClock clock;
    private final PriorityQueue<Task> tasks =
            new PriorityQueue<>(Comparator.comparing(Task::due).thenComparingLong(Task::seq));
    private long seq;

    private static final class Task {
        final Instant due;
        final long seq;
        final Runnable body;
        boolean cancelled;

        Task(Instant due, long seq, Runnable body) {
            this.due = due;
            this.seq = seq;
            this.body = body;
        }

        Instant due() {
            return due;
        }

        long seq() {
            return seq;
        }
    }

    public FakeScheduler(MutableClock clock) {
        this.clock = clock;
    }

    @Override
    public synchronized Cancellable schedule(Duration delay, Runnable task) {
        var t = new Task(clock.instant().plus(delay.isNegative() ? Duration.ZERO : delay), seq++, task);
        tasks.add(t);
        return () -> {
            synchronized (FakeScheduler.this) {
                t.cancelled = true;
                tasks.remove(t);
            }
        };
    }

    /** Moves the clock forward by {@code duration}, running every task that falls due, at its due time. */
    public void advance(Duration duration) {
        Instant end = clock.instant().plus(duration);
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.due.isAfter(end)) {
                    break;
                }
                tasks.poll();
            }
            if (next.due.isAfter(clock.instant())) {
                clock.set(next.due);
            }
            next.body.run();
        }
        clock.set(end);
    }

    /** Moves the clock to {@code instant} (forward only), running what falls due. */
    public void advanceTo(Instant instant) {
        advance(Duration.between(clock.instant(), instant));
    }

    /** Runs what is due now. */
    public void runDue() {
        advance(Duration.ZERO);
    }

    /** When the next task is due. */
    public synchronized Optional<Instant> nextDue() {
        return Optional.ofNullable(tasks.peek()).map(Task::due);
    }

    /** The due times of every pending task, in order. */
    public synchronized List<Instant> pending() {
        List<Task> sorted = new ArrayList<>(tasks);
        sorted.sort(tasks.comparator());
        return sorted.stream().map(Task::due).toList();
    }
}
