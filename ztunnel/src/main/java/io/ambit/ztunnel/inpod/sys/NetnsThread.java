package io.ambit.ztunnel.inpod.sys;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that enters pods' network namespaces. A socket belongs to the namespace of the thread
 * that called {@code socket(2)}, for its whole life; so each task runs here between
 * {@code setns(pod, CLONE_NEWNET)} and {@code setns(home, CLONE_NEWNET)}, and whatever sockets it
 * creates live in the pod. Only this dedicated platform thread ever switches: a virtual thread could
 * move to another carrier between the two calls, and an event-loop thread would take every later socket
 * of its own with it if a switch back ever failed.
 *
 * <p>Tasks must be short (create a socket and set its options); the queue is bounded. If switching back
 * fails (it cannot, short of a kernel bug), the thread stops and refuses all further work rather than
 * create host sockets in a pod.
 */
public final class NetnsThread implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NetnsThread.class);
    private static final Task STOP = new Task(null, null, null);

    private final BlockingQueue<Task> queue = new ArrayBlockingQueue<>(1024);
    private final Thread thread;
    private final CompletableFuture<NetnsFd> home = new CompletableFuture<>();
    private volatile String broken;

    private record Task(NetnsFd netns, Callable<?> work, CompletableFuture<Object> result) {}

    /**
     * Starts the thread; its home is the namespace of the thread calling this.
     *
     * @throws IOException when the home namespace cannot be opened (not Linux, no /proc)
     */
    public NetnsThread(String name) throws IOException {
        thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
        thread.start();
        try {
            home.get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + name, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException(
                    "cannot open the home network namespace: "
                            + (e.getCause() != null ? e.getCause().getMessage() : e.toString()),
                    e.getCause());
        }
    }

    /**
     * Runs {@code work} inside {@code netns} and returns its result, waiting up to {@code timeout}.
     *
     * @throws ErrnoException when entering the namespace fails (e.g. the pod is gone)
     * @throws Exception whatever {@code work} threw
     */
    @SuppressWarnings("unchecked")
    public <T> T call(NetnsFd netns, Callable<T> work, Duration timeout) throws Exception {
        if (broken != null) {
            throw new IllegalStateException("namespace thread stopped: " + broken);
        }
        var result = new CompletableFuture<Object>();
        if (!queue.offer(new Task(netns, work, result))) {
            throw new RejectedExecutionException("namespace thread queue is full (1024 tasks)");
        }
        try {
            return (T) result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        } catch (TimeoutException e) {
            result.cancel(false);
            throw new TimeoutException("namespace task not done within " + timeout);
        }
    }

    private void run() {
        NetnsFd own;
        try {
            own = NetnsFd.ofCurrentThread();
        } catch (IOException | RuntimeException e) {
            broken = e.toString();
            home.completeExceptionally(e);
            return;
        }
        home.complete(own);
        try {
            while (true) {
                Task task = queue.take();
                if (task == STOP) {
                    break;
                }
                if (task.result().isCancelled()) {
                    continue;
                }
                try {
                    Libc.setns(task.netns().fd(), Libc.CLONE_NEWNET);
                } catch (ErrnoException | RuntimeException e) {
                    task.result().completeExceptionally(e);
                    continue;
                }
                try {
                    task.result().complete(task.work().call());
                } catch (Throwable t) {
                    task.result().completeExceptionally(t);
                } finally {
                    try {
                        Libc.setns(own.fd(), Libc.CLONE_NEWNET);
                    } catch (ErrnoException | RuntimeException e) {
                        broken = "could not return to the home namespace: " + e.getMessage();
                        log.error("namespace thread stops: {}", broken);
                        break;
                    }
                }
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            for (Task t; (t = queue.poll()) != null; ) {
                if (t.result() != null) {
                    t.result().completeExceptionally(new IllegalStateException("namespace thread stopped"));
                }
            }
            own.close();
        }
    }

    @Override
    public void close() {
        broken = broken == null ? "closed" : broken;
        if (!queue.offer(STOP)) {
            thread.interrupt();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
