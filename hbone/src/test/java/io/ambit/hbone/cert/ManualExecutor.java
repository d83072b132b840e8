package io.ambit.hbone.cert;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;

/** An executor that runs nothing until told, so a test can see what is in flight. */
public final class ManualExecutor implements Executor {
    private final Deque<Runnable> queue = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable command) {
        queue.add(command);
    }

    /** How many tasks wait. */
    public synchronized int size() {
        return queue.size();
    }

    /** Runs the oldest task; returns false when there was none. */
    public boolean runNext() {
        Runnable next;
        synchronized (this) {
            next = queue.poll();
        }
        if (next == null) {
            return false;
        }
        next.run();
        return true;
    }

    /** Runs tasks, including those they submit, until none is left. */
    public void runAll() {
        while (runNext()) {
            // keep going
        }
    }
}
