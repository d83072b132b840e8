package io.ambit.waypoint.pipeline;

/**
 * The pluggable stages of the waypoint pipeline, each {@link RequestStage#PASS} until provided. The real
 * ones are built by {@code io.ambit.waypoint.stages.SecurityStages#forWaypoint} ({@code ExtAuthzStage},
 * {@code JwtStage}, {@code RateLimitStage}); {@code LocalWaypoints} puts them in every waypoint it starts. The order
 * they run in is fixed by {@link RequestPipeline} (Istio's): {@code customAuthz} (CUSTOM policies with an
 * ext_authz provider, package {@code io.ambit.waypoint.extauthz}) → {@code requestAuthentication} (JWT,
 * package {@code io.ambit.waypoint.jwt}) → the policy engine's DENY → ALLOW (built in) →
 * {@code rateLimit} (local token buckets, package {@code io.ambit.waypoint.ratelimit}) → route.
 *
 * <p>What each slot is expected to do with the {@link RequestContext}:
 *
 * <ul>
 *   <li>{@code customAuthz}: ask the engine whether a CUSTOM policy matches ({@link RequestContext#decide()}
 *       with no ext_authz answer yet returns verdict {@code CUSTOM} and the provider name); if so call the
 *       provider and either {@link StageResult#respond} with the provider's status, body and
 *       {@code headersToDownstreamOnDeny}, or record {@link RequestContext#extAuthz(
 *       io.ambit.policy.engine.AccessRequest.ExtAuthzAnswer)} ALLOW and add {@code headersToUpstreamOnAllow}
 *       to {@link RequestContext#headers()}. Fail closed unless the provider says {@code failOpen}.
 *   <li>{@code requestAuthentication}: find the token where the attached RequestAuthentication rules say,
 *       verify it against the issuer's JWKS and record {@link RequestContext#token(
 *       io.ambit.policy.engine.Token)} ({@code Verified} or {@code Invalid}) and, for a refused token, the
 *       reply ({@link RequestContext#authenticationFailure(io.ambit.waypoint.answer.LocalReply)}); the
 *       built-in DENY → ALLOW stage sends it when the engine denies for JWT. It may also
 *       remove the token ({@code forwardOriginalToken: false}) and add {@code outputClaimToHeaders}.
 *   <li>{@code rateLimit}: answer 429 {@code local_rate_limited} with the limit's headers when the bucket
 *       for this route is empty.
 * </ul>
 */
public record StageSet(RequestStage customAuthz, RequestStage requestAuthentication, RequestStage rateLimit) {

    /** No extension stages: only the built-in DENY → ALLOW decision runs. */
    public static final StageSet NONE = new StageSet(RequestStage.PASS, RequestStage.PASS, RequestStage.PASS);

    public StageSet {
        if (customAuthz == null || requestAuthentication == null || rateLimit == null) {
            throw new IllegalArgumentException("stages: null (expected RequestStage.PASS for an unused slot)");
        }
    }

    public StageSet withCustomAuthz(RequestStage stage) {
        return new StageSet(stage, requestAuthentication, rateLimit);
    }

    public StageSet withRequestAuthentication(RequestStage stage) {
        return new StageSet(customAuthz, stage, rateLimit);
    }

    public StageSet withRateLimit(RequestStage stage) {
        return new StageSet(customAuthz, requestAuthentication, stage);
    }
}
