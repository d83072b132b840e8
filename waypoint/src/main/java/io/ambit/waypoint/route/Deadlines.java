package io.ambit.waypoint.route;

import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The timeouts of one event loop (connect, request, stream idle, request head, idle connection), kept
 * coarsely: arming or cancelling one is linking or unlinking a list node, and one task per {@link #tick()}
 * looks for the expired ones. Why not a scheduled task per timeout: the proxy arms and cancels two or three
 * timeouts per request that almost never fire; each was a task allocated, put into and taken out of the
 * loop's priority queue, and often a new earliest wake-up for the loop's poller — a measurable share of a
 * request's CPU at low rates. Here the loop wakes once per tick, and only while any timeout is armed.
 *
 * <p>A timeout fires no earlier than asked and at most one tick later. Everything runs on the loop.
 */
public final class Deadlines {
    private static final Logger log = LoggerFactory.getLogger(Deadlines.class);
    /** The granularity: timeouts here are seconds to minutes; a tenth of a second late is nothing. */
    public static final Duration TICK = Duration.ofMillis(100);

    /** One timeout: armed for a time, cancelled, re-armed; {@link #expired()} runs on the loop when it passes. */
    public abstract static class Entry {
        private long deadline;
        private Entry prev;
        private Entry next;

        /** The time passed without a cancel or a later re-arm. The entry is no longer armed. */
        protected abstract void expired();

        /** Whether it is armed. */
        public final boolean armed() {
            return next != null;
        }
    }

    private final EventLoop loop;
    private final long tickNanos;
    private final LongSupplier nanoTime;
    private final Entry head = new Entry() { // sentinel of the circular list of armed entries
                @Override
                protected void expired() {}
            };
    private boolean ticking;

    public Deadlines(EventLoop loop) {
        this(loop, TICK, System::nanoTime);
    }

    /** With another tick and clock (tests). */
    Deadlines(EventLoop loop, Duration tick, LongSupplier nanoTime) {
        this.loop = loop;
        this.tickNanos = tick.toNanos();
        this.nanoTime = nanoTime;
        head.prev = head;
        head.next = head;
    }

    /** Arms {@code e} to expire {@code nanos} from now, replacing an earlier arming. */
    public void arm(Entry e, long nanos) {
        e.deadline = nanoTime.getAsLong() + nanos;
        if (e.next == null) {
            e.prev = head.prev;
            e.next = head;
            head.prev.next = e;
            head.prev = e;
        }
        if (!ticking) {
            ticking = true;
            loop.schedule(this::tick, tickNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Disarms {@code e} (nothing when it is not armed). */
    public void cancel(Entry e) {
        if (e.next != null) {
            e.prev.next = e.next;
            e.next.prev = e.prev;
            e.prev = null;
            e.next = null;
        }
    }

    /** Armed entries (tests, diagnostics). */
    int armedCount() {
        int n = 0;
        for (Entry e = head.next; e != head; e = e.next) {
            n++;
        }
        return n;
    }

    /** Fires what has expired; runs again after a tick while anything is armed. */
    void tick() {
        long now = nanoTime.getAsLong();
        List<Entry> due = null;
        for (Entry e = head.next; e != head; e = e.next) {
            if (now - e.deadline >= 0) {
                if (due == null) {
                    due = new ArrayList<>();
                }
                due.add(e);
            }
        }
        if (due != null) {
            // Collected first: an expiry may arm or cancel other entries (or this one again).
            for (Entry e : due) {
                if (e.next != null && now - e.deadline >= 0) {
                    cancel(e);
                    try {
                        e.expired();
                    } catch (RuntimeException failure) {
                        // one owner's failure must not stop the others' timeouts
                        log.warn("timeout handler failed", failure);
                    }
                }
            }
        }
        if (head.next != head) {
            loop.schedule(this::tick, tickNanos, TimeUnit.NANOSECONDS);
        } else {
            ticking = false;
        }
    }
}
