package io.ambit.waypoint.pipeline;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The body of a request still being decided, for a stage that must see it first (an ext_authz provider
 * with {@code includeRequestBodyInCheck}). Reading does not consume it: every byte read is held and sent
 * upstream, unchanged, once the request is allowed.
 */
@FunctionalInterface
public interface RequestBody {

    /**
     * Reads the body until it ends or more than {@code maxBytes} have arrived. What was read is held (at
     * most {@code maxBytes} plus one part of the client's framing), and reading hands the client
     * flow-control credit as it goes, so a body within the limit never waits for the decision. Completes on
     * the request's event loop with the first bytes; exceptionally when the client goes away or the body
     * was asked for already. The pipeline's timeout bounds the wait.
     */
    CompletionStage<Buffered> read(int maxBytes);

    /**
     * The first bytes of the body.
     *
     * @param bytes at most {@code maxBytes}
     * @param truncated whether the body is longer than {@code bytes}
     */
    record Buffered(byte[] bytes, boolean truncated) {}

    /** A request with no readable body behind it (built by hand): a stage that needs one fails closed. */
    RequestBody UNAVAILABLE = maxBytes -> CompletableFuture.failedFuture(
            new IllegalStateException("this request's body cannot be read before it is routed"));
}
