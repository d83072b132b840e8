package io.ambit.waypoint.stages;

import io.ambit.policy.engine.Decision;
import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.pipeline.RequestContext;
import io.ambit.waypoint.pipeline.RequestStage;
import io.ambit.waypoint.pipeline.StageResult;
import io.ambit.waypoint.ratelimit.RateLimitDecision;
import io.ambit.waypoint.ratelimit.RateLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The local rate-limit stage, after ALLOW and before routing: the limits attached to the destination
 * Service, this waypoint's Gateway or its namespace ({@link RateLimits}, lock-free, synchronous). A refusal
 * is Envoy's: {@code 429 local_rate_limited} with the headers the limit configures (and
 * {@code x-ratelimit-*} when enabled), gRPC status 14 (or 8), flag {@code RL}. An allowed request carries
 * the limit's request headers upstream (limited but not enforced) and its {@code x-ratelimit-*} back.
 */
public final class RateLimitStage implements RequestStage {
    private final RateLimits limits;
    private final WaypointIdentity self;

    RateLimitStage(RateLimits limits, WaypointIdentity self) {
        this.limits = limits;
        this.self = self;
    }

    @Override
    public CompletionStage<StageResult> apply(RequestContext request) {
        var service = request.target().service();
        // A per-connection limit (local_rate_limit_per_downstream_connection) takes from the bucket of the
        // request's tunnel; a request that names no connection shares one bucket, which limits more, not less.
        var connection = limits.anyPerConnection() ? limits.connection(request.connection()) : null;
        RateLimitDecision d =
                limits.check(service.namespace(), service.name(), self.namespace(), self.gatewayName(), connection);
        if (d == RateLimitDecision.UNLIMITED) {
            return StageResult.CONTINUE_NOW;
        }
        if (!d.allowed()) {
            request.decision(refused(d, request.decision()));
            return CompletableFuture.completedFuture(StageResult.respond(refusal(d)));
        }
        for (Map.Entry<String, String> h : d.requestHeaders()) {
            request.headers().add(h.getKey(), h.getValue());
        }
        if (!d.rateLimitHeaders().isEmpty()) {
            List<Map.Entry<String, String>> lines = d.rateLimitHeaders();
            request.editResponseHeaders(h -> lines.forEach(e -> h.set(e.getKey(), e.getValue())));
        }
        return StageResult.CONTINUE_NOW;
    }

    /** What the access log says of a refused request: the limit that refused it, not the policy that allowed it. */
    static Decision refused(RateLimitDecision d, Decision allowedBy) {
        String allowed = allowedBy == null || allowedBy.policy() == null
                ? ""
                : " (authorization allowed it: " + allowedBy.policy() + ")";
        return new Decision(
                Decision.Verdict.DENY,
                null,
                Decision.Reason.RATE_LIMIT,
                d.policy(),
                null,
                d.status(),
                "rate limited by " + d.policy() + ": its token bucket is empty (" + d.status() + " " + d.body() + ")"
                        + allowed,
                allowedBy == null ? List.of() : allowedBy.audit(),
                null);
    }

    static LocalReply refusal(RateLimitDecision d) {
        var lines = new ArrayList<Map.Entry<String, String>>(d.responseHeaders());
        lines.addAll(d.rateLimitHeaders());
        return LocalReply.withLines(d.status(), d.body(), lines, ResponseFlag.RATE_LIMITED)
                .withGrpcStatus(d.grpcStatus());
    }
}
