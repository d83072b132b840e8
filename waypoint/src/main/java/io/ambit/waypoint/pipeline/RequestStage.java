package io.ambit.waypoint.pipeline;

import java.util.concurrent.CompletionStage;

/**
 * One step of the per-request pipeline, in Istio's order (ARCHITECTURE.md, authz-semantics §2.2):
 * CUSTOM ext_authz → RequestAuthentication → DENY → ALLOW → local rate limit → route. Each stage reads
 * and may amend the {@link RequestContext} (a verified token, the provider's answer, headers for the
 * upstream), then either lets the request go on or answers it locally.
 *
 * <p>Called on the request's event loop. A stage must not block it: slow work (an HTTP or gRPC call to an
 * authorizer, a JWKS fetch) completes the returned stage later, from any thread; the pipeline comes back
 * to the event loop before the next stage runs. A stage that completes exceptionally fails the request
 * closed (500, flag {@code -}); one that does not complete within the pipeline's timeout is answered 504.
 * Stages that decide synchronously return {@link StageResult#CONTINUE_NOW} or an already completed
 * stage, which costs no thread hop.
 */
@FunctionalInterface
public interface RequestStage {

    /** Decides or amends one request. */
    CompletionStage<StageResult> apply(RequestContext request);

    /** A stage that lets everything through (an unconfigured slot). */
    RequestStage PASS = request -> StageResult.CONTINUE_NOW;
}
