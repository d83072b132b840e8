package io.ambit.waypoint.jwt;

import io.ambit.policy.engine.Token;
import java.util.List;
import java.util.Map;

/**
 * The outcome of RequestAuthentication for one request.
 *
 * <p>How a caller applies it, in this order:
 * <ol>
 *   <li>{@link #token()} goes into the {@code AccessRequest} ({@code .token(result.token())}); the policy
 *       engine then exposes {@code request.auth.*} to DENY/ALLOW and orders the JWT stage after CUSTOM.
 *   <li>When {@link #rejection()} is not null the request must be answered with it (status, body and
 *       {@code WWW-Authenticate}) once the engine's decision is a JWT denial (or right after CUSTOM, if the
 *       caller orders the stages itself). The token is then {@link Token.Invalid}, so the engine denies it too.
 *   <li>Otherwise, before forwarding: remove {@link #removeHeaders()}, then add {@link #addHeaders()}, and
 *       send {@link #path()} instead of the original target when it is not null.
 * </ol>
 *
 * @param token         {@link Token#NONE}, a {@link Token.Verified} or a {@link Token.Invalid}
 * @param rejection     the local reply to send, or null when the request may continue
 * @param removeHeaders lower-case header names to remove from the upstream request: the token's header
 *                      (unless {@code forwardOriginalToken}), and every output header a client might have
 *                      sent itself (Envoy sanitizes those on every request)
 * @param addHeaders    headers to add after the removals: {@code outputPayloadToHeader},
 *                      {@code outputClaimToHeaders}, a cookie header rebuilt without the token cookie
 * @param path          the request target with a query-parameter token removed, or null when unchanged
 * @param detail        one line for the access log: which rule verified the token, or why it failed
 */
public record JwtResult(
        Token token,
        Rejection rejection,
        List<String> removeHeaders,
        List<Map.Entry<String, String>> addHeaders,
        String path,
        String detail) {

    public JwtResult {
        removeHeaders = List.copyOf(removeHeaders);
        addHeaders = List.copyOf(addHeaders);
    }

    /**
     * Envoy's local reply for a refused token.
     *
     * @param status          401, or 403 for {@link JwtFailure#AUDIENCE_NOT_ALLOWED}
     * @param body            Envoy's status text, e.g. {@code Jwt is expired} (sent as text/plain)
     * @param wwwAuthenticate {@code Bearer realm="http://host/path", error="invalid_token"}
     * @param failure         the reason as a value
     */
    public record Rejection(int status, String body, String wwwAuthenticate, JwtFailure failure) {}

    /** Whether the request must be answered with {@link #rejection()}. */
    public boolean rejected() {
        return rejection != null;
    }
}
