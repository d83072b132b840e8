package io.ambit.waypoint.pipeline;

import io.ambit.waypoint.answer.LocalReply;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** What a {@link RequestStage} decided: go on to the next stage, or answer the request here. */
public sealed interface StageResult {

    /** Go on. */
    StageResult CONTINUE = new Continue();

    /** {@link #CONTINUE}, already completed: what a synchronous stage returns. */
    CompletionStage<StageResult> CONTINUE_NOW = CompletableFuture.completedFuture(CONTINUE);

    /** Answer locally with {@code reply}; no later stage runs and nothing goes upstream. */
    static StageResult respond(LocalReply reply) {
        return new Respond(reply);
    }

    /** @see #CONTINUE */
    record Continue() implements StageResult {}

    /** @see #respond(LocalReply) */
    record Respond(LocalReply reply) implements StageResult {
        public Respond {
            if (reply == null) {
                throw new IllegalArgumentException("reply: null");
            }
        }
    }
}
