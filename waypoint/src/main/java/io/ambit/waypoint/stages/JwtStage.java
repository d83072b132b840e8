package io.ambit.waypoint.stages;

import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.jwt.JwtAuthenticator;
import io.ambit.waypoint.jwt.JwtRequest;
import io.ambit.waypoint.jwt.JwtResult;
import io.ambit.waypoint.pipeline.RequestContext;
import io.ambit.waypoint.pipeline.RequestStage;
import io.ambit.waypoint.pipeline.StageResult;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The RequestAuthentication stage (authz-semantics §4): tokens are verified against the jwtRules attached
 * to the destination, and what was found is recorded for DENY/ALLOW.
 *
 * <ul>
 *   <li>No rule attached: nothing is read, the request passes untouched.
 *   <li>A valid token: {@code Token.Verified} for {@code request.auth.*}; the token is stripped unless
 *       {@code forwardOriginalToken}, claim headers are added (spoofed copies removed first), and a
 *       query-parameter token leaves the upstream path.
 *   <li>A refused token: {@code Token.Invalid}, and Envoy's reply for it (401 with
 *       {@code WWW-Authenticate} for this request's realm, or 403 for audiences) is kept for the DENY/ALLOW
 *       stage, which sends it when the engine denies for JWT. Answering there, not here, keeps one place
 *       where decisions turn into replies.
 * </ul>
 *
 * Keys cached: decided at once on the event loop. Otherwise (a JWKS fetch, a new signature verified on the
 * bounded verifier) the result is applied back on the request's event loop.
 */
public final class JwtStage implements RequestStage {
    private final Authenticators authenticators;

    JwtStage(Authenticators authenticators) {
        this.authenticators = authenticators;
    }

    @Override
    public CompletionStage<StageResult> apply(RequestContext request) {
        JwtAuthenticator auth =
                authenticators.of(request.mesh().policies(), request.target().destination());
        if (auth.isEmpty()) {
            return StageResult.CONTINUE_NOW;
        }
        var input = new JwtRequest(
                request.method(), "http", request.authority(), request.currentPath(), request.headerMap());
        CompletableFuture<JwtResult> result = auth.authenticate(input).toCompletableFuture();
        if (result.isDone() && !result.isCompletedExceptionally()) {
            applyTo(request, result.join());
            return StageResult.CONTINUE_NOW;
        }
        return result.thenApplyAsync(
                r -> {
                    applyTo(request, r);
                    return StageResult.CONTINUE;
                },
                request.eventLoop());
    }

    /** Records the result and changes the upstream request as RequestAuthentication says (JwtResult's order). */
    static void applyTo(RequestContext request, JwtResult r) {
        request.token(r.token());
        if (r.rejected()) {
            var rejection = r.rejection();
            request.authenticationFailure(LocalReply.withLines(
                    rejection.status(),
                    rejection.body(),
                    List.of(Map.entry("www-authenticate", rejection.wwwAuthenticate())),
                    ResponseFlag.NONE));
            return;
        }
        HttpHeaders headers = request.headers();
        for (String name : r.removeHeaders()) {
            headers.remove(name);
        }
        for (Map.Entry<String, String> e : r.addHeaders()) {
            headers.add(e.getKey(), e.getValue());
        }
        if (r.path() != null) {
            request.upstreamPath(r.path());
        }
    }
}
