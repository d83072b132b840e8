package io.ambit.waypoint.authz;

import io.ambit.policy.engine.Decision;
import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.pipeline.RequestContext;
import io.ambit.waypoint.pipeline.RequestStage;
import io.ambit.waypoint.pipeline.StageResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The built-in DENY → ALLOW stage: the policy engine's L7 decision over the policies attached by targetRefs
 * to the destination Service, this waypoint's Gateway and the {@code istio-waypoint} GatewayClass, with
 * the token and ext_authz answer the earlier stages recorded. Synchronous (the snapshot is in memory).
 *
 * <p>Denials: 403 {@code RBAC: access denied} (gRPC: PERMISSION_DENIED); a bad token 401 with
 * {@code WWW-Authenticate} or 403 (audiences), as the engine says, with the reply the JWT stage prepared
 * ({@link RequestContext#authenticationFailure()}); a malformed path 400. A CUSTOM verdict
 * here means a CUSTOM policy matched but no ext_authz stage answered it: denied, fail closed.
 */
public final class RbacStage implements RequestStage {
    private static final CompletionStage<StageResult> FORBIDDEN =
            CompletableFuture.completedFuture(StageResult.respond(LocalReply.forbidden()));

    @Override
    public CompletionStage<StageResult> apply(RequestContext request) {
        Decision d = request.decide();
        return switch (d.verdict()) {
            case ALLOW -> StageResult.CONTINUE_NOW;
            case CUSTOM -> FORBIDDEN; // no provider answered: never let it through
            case DENY -> CompletableFuture.completedFuture(StageResult.respond(denial(d, request)));
        };
    }

    /** The reply for a DENY decision, by the stage that decided. */
    static LocalReply denial(Decision d, RequestContext request) {
        if (d.reason() == Decision.Reason.JWT && request.authenticationFailure() != null) {
            // RequestAuthentication prepared Envoy's exact answer (realm of this request, reason text)
            return request.authenticationFailure();
        }
        return switch (d.reason()) {
            case JWT ->
                d.httpStatus() == 401
                        ? LocalReply.unauthorized("Jwt verification fails")
                        : new LocalReply(
                                d.httpStatus() == 0 ? 403 : d.httpStatus(),
                                "Audiences in Jwt are not allowed",
                                java.util.Map.of(),
                                io.ambit.waypoint.answer.ResponseFlag.NONE,
                                false);
            case BAD_REQUEST -> LocalReply.badRequest("invalid request path");
            default -> LocalReply.forbidden();
        };
    }
}
