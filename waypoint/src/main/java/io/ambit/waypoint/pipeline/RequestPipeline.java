package io.ambit.waypoint.pipeline;

import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.answer.ResponseFlag;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs the stages of one request in Istio's order — CUSTOM ext_authz → RequestAuthentication → DENY →
 * ALLOW → local rate limit — and tells the caller, on the request's event loop, whether to route it or
 * what to answer. A synchronous stage continues at once; an asynchronous one is waited for without
 * blocking, then the pipeline resumes on the event loop. A failed stage or one slower than the timeout
 * fails the request closed.
 */
public final class RequestPipeline {
    private final List<RequestStage> stages;
    private final Duration timeout;

    /**
     * @param extensions the pluggable stages
     * @param denyAllow the built-in policy decision, run between RequestAuthentication and the rate limit
     * @param timeout how long all stages together may take
     */
    public RequestPipeline(StageSet extensions, RequestStage denyAllow, Duration timeout) {
        this.stages = List.of(
                extensions.customAuthz(), extensions.requestAuthentication(), denyAllow, extensions.rateLimit());
        this.timeout = timeout;
    }

    /**
     * Runs the stages; {@code done} is called exactly once on the request's event loop with null (route it)
     * or the reply to send. {@code alive} is checked between stages: once the client has gone, the rest is
     * skipped.
     */
    public void run(RequestContext request, java.util.function.BooleanSupplier alive, Consumer<LocalReply> done) {
        new Run(request, alive, done).next(0);
    }

    private final class Run {
        private final RequestContext request;
        private final java.util.function.BooleanSupplier alive;
        private final Consumer<LocalReply> done;
        private final EventLoop loop;
        private boolean finished;
        private io.netty.util.concurrent.ScheduledFuture<?> timer;

        Run(RequestContext request, java.util.function.BooleanSupplier alive, Consumer<LocalReply> done) {
            this.request = request;
            this.alive = alive;
            this.done = done;
            this.loop = request.eventLoop();
        }

        void next(int index) {
            while (index < stages.size()) {
                if (!alive.getAsBoolean()) {
                    finish(new LocalReply(
                            499, "client went away", Map.of(), ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION, true));
                    return;
                }
                CompletionStage<StageResult> stage;
                try {
                    stage = stages.get(index).apply(request);
                } catch (RuntimeException e) {
                    stage = CompletableFuture.failedFuture(e);
                }
                CompletableFuture<StageResult> f = stage.toCompletableFuture();
                if (f.isDone() && !f.isCompletedExceptionally()) {
                    StageResult r = f.getNow(StageResult.CONTINUE);
                    if (r instanceof StageResult.Respond respond) {
                        finish(respond.reply());
                        return;
                    }
                    index++;
                    continue;
                }
                int resume = index + 1;
                armTimer();
                f.whenComplete((r, e) -> {
                    if (loop.inEventLoop()) {
                        resumed(r, e, resume);
                    } else {
                        loop.execute(() -> resumed(r, e, resume));
                    }
                });
                return;
            }
            finish(null);
        }

        private void resumed(StageResult r, Throwable e, int resume) {
            if (finished) {
                return; // timed out meanwhile
            }
            if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                finish(LocalReply.internalError(
                        "pipeline stage failed: " + cause.getClass().getSimpleName()));
            } else if (r instanceof StageResult.Respond respond) {
                finish(respond.reply());
            } else {
                next(resume);
            }
        }

        private void armTimer() {
            if (timer == null) {
                timer = loop.schedule(
                        () -> finish(
                                new LocalReply(504, "authorization timed out", Map.of(), ResponseFlag.NONE, false)),
                        timeout.toNanos(),
                        TimeUnit.NANOSECONDS);
            }
        }

        private void finish(LocalReply reply) {
            if (finished) {
                return;
            }
            finished = true;
            if (timer != null) {
                timer.cancel(false);
            }
            done.accept(reply);
        }
    }
}
