package io.ambit.waypoint.jwt;

import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.engine.Token;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * RequestAuthentication at the waypoint (authz-semantics §4), as Envoy's jwt_authn filter configured by
 * Istio does it: every jwtRule attached to the destination, merged.
 *
 * <ul>
 *   <li>No rules: nothing is looked at ({@link Token#NONE}).
 *   <li>No token at any location the rules read: the request passes without a principal; ALLOW decides.
 *   <li>Every token found must validate against a rule with its issuer that reads that location: signature
 *       against the rule's keys ({@code jwks} inline, {@code jwksUri}, or OpenID discovery), {@code exp}/{@code
 *       nbf} within the clock skew, audiences. One rule accepting is enough; otherwise 401 (403 for
 *       audiences) with Envoy's body and {@code WWW-Authenticate}. An issuer no rule names is 401 "Jwt issuer
 *       is not configured", not "no token".
 *   <li>CORS preflights ({@code OPTIONS} with {@code Origin} and {@code Access-Control-Request-Method}) skip
 *       the stage, as Envoy's {@code bypass_cors_preflight}.
 * </ul>
 *
 * <p>Immutable and cheap to build: make one per (policy snapshot, destination) and keep it with the
 * snapshot; keys live in the shared {@link JwksCache}. {@link #authenticate} never blocks: with keys
 * cached it returns a completed stage; otherwise the stage completes on a JWKS fetch thread, so a Netty
 * caller continues with {@code stage.whenCompleteAsync(fn, ctx.executor())}.
 */
public final class JwtAuthenticator {
    /** Most tokens one request may carry; Envoy has no limit, but every token costs a verification. */
    public static final int MAX_TOKENS = 8;

    /**
     * @param maxTokenBytes the longest token accepted (header limits bound it anyway; this bounds the work)
     * @param clockSkew     tolerance on {@code exp} and {@code nbf} (Envoy: 60s), at most 10 minutes
     */
    public record Limits(int maxTokenBytes, Duration clockSkew) {
        public static final Limits DEFAULT = new Limits(16 * 1024, Duration.ofSeconds(60));

        public Limits {
            if (maxTokenBytes < 64) {
                throw new IllegalArgumentException("maxTokenBytes: " + maxTokenBytes + " (expected: >= 64)");
            }
            if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new IllegalArgumentException("clockSkew: " + clockSkew + " (expected: 0 to 10 minutes)");
            }
        }
    }

    private static final int MAX_REALM_PATH = 256;

    private final List<RuleKeys> rules;
    private final TokenLocations locations;
    private final List<String> sanitize;
    private final JwksCache cache;
    private final Limits limits;
    private final List<String> problems;
    private final JwtResult none;

    private JwtAuthenticator(List<JwtRule> jwtRules, JwksCache cache, Limits limits) {
        var problems = new ArrayList<String>();
        var compiled = new ArrayList<RuleKeys>();
        var outputs = new LinkedHashSet<String>();
        for (JwtRule r : jwtRules) {
            var k = new RuleKeys(r, cache, problems);
            compiled.add(k);
            k.outputHeaders(outputs);
        }
        this.rules = List.copyOf(compiled);
        this.locations = new TokenLocations(jwtRules);
        this.sanitize = List.copyOf(outputs);
        this.cache = cache;
        this.limits = limits;
        this.problems = List.copyOf(problems);
        this.none = new JwtResult(Token.NONE, null, sanitize, List.of(), null, "no token");
    }

    /** An authenticator for the jwtRules attached to one destination, with {@link Limits#DEFAULT}. */
    public static JwtAuthenticator of(List<JwtRule> rules, JwksCache cache) {
        return new JwtAuthenticator(rules, cache, Limits.DEFAULT);
    }

    public static JwtAuthenticator of(List<JwtRule> rules, JwksCache cache, Limits limits) {
        return new JwtAuthenticator(rules, cache, limits);
    }

    /** Whether no rule is attached (every request passes untouched). */
    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /**
     * Configuration problems found while building: unusable inline keys, output headers that were ignored.
     * None of them opens anything (a rule without keys refuses its tokens); worth a warning on load.
     */
    public List<String> problems() {
        return problems;
    }

    /** Starts fetching every remote key set these rules need, so that the first request does not wait. */
    public void warm() {
        for (var r : rules) {
            if (r.remote != null) {
                cache.warm(r.remote);
            }
        }
    }

    /** Authenticates one request; see the class comment and {@link JwtResult} for what to do with it. */
    public CompletionStage<JwtResult> authenticate(JwtRequest request) {
        if (rules.isEmpty()) {
            return CompletableFuture.completedFuture(
                    new JwtResult(Token.NONE, null, List.of(), List.of(), null, "no RequestAuthentication"));
        }
        if (isCorsPreflight(request)) {
            return CompletableFuture.completedFuture(
                    new JwtResult(Token.NONE, null, List.of(), List.of(), null, "CORS preflight bypasses JWT"));
        }
        var found = locations.extract(request, MAX_TOKENS);
        if (found.isEmpty()) {
            return CompletableFuture.completedFuture(none);
        }
        if (found.size() > MAX_TOKENS) {
            return CompletableFuture.completedFuture(
                    reject(request, JwtFailure.TOO_MANY, "more than " + MAX_TOKENS + " tokens"));
        }
        var verdicts = new TokenCheck[found.size()];
        CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
        for (int i = 0; i < found.size(); i++) {
            int at = i;
            // One token after the other: the first failure decides, and later tokens are not even parsed.
            chain = chain.thenCompose(x -> failed(verdicts)
                    ? CompletableFuture.completedFuture(null)
                    : TokenVerifier.check(found.get(at), this).thenAccept(v -> verdicts[at] = v));
        }
        return chain.thenApply(x -> combine(request, found, verdicts));
    }

    private static boolean failed(TokenCheck[] verdicts) {
        for (TokenCheck v : verdicts) {
            if (v != null && !v.ok()) {
                return true;
            }
        }
        return false;
    }

    List<RuleKeys> rules() {
        return rules;
    }

    TokenLocations locations() {
        return locations;
    }

    JwksCache cache() {
        return cache;
    }

    Limits limits() {
        return limits;
    }

    private JwtResult combine(JwtRequest r, List<TokenLocations.Found> found, TokenCheck[] verdicts) {
        for (TokenCheck v : verdicts) {
            if (v != null && !v.ok()) {
                return reject(r, v.failure(), v.detail());
            }
        }
        var remove = new LinkedHashSet<>(sanitize);
        var add = new ArrayList<Map.Entry<String, String>>();
        String path = null;
        for (int i = 0; i < found.size(); i++) {
            var f = found.get(i);
            var v = verdicts[i];
            if (!v.rule().rule.forwardOriginalToken()) {
                switch (f.location().kind()) {
                    case HEADER -> remove.add(f.location().name());
                    case PARAM ->
                        path = TokenLocations.withoutParam(
                                path != null ? path : r.path(), f.location().name());
                    case COOKIE -> {
                        remove.add("cookie");
                        add.removeIf(e -> e.getKey().equals("cookie"));
                        for (String c : r.header("cookie")) {
                            String kept =
                                    TokenLocations.withoutCookie(c, f.location().name());
                            if (!kept.isEmpty()) {
                                add.add(Map.entry("cookie", kept));
                            }
                        }
                    }
                }
            }
            ClaimHeaders.add(v.rule(), v.jwt(), add);
        }
        var first = verdicts[0];
        var token = first.jwt().policyToken();
        String detail = "verified by jwtRule issuer \"" + first.rule().rule.issuer() + "\""
                + (found.size() > 1 ? " (" + found.size() + " tokens)" : "");
        return new JwtResult(token, null, List.copyOf(remove), add, path, detail);
    }

    private JwtResult reject(JwtRequest r, JwtFailure failure, String detail) {
        var rejection = new JwtResult.Rejection(failure.httpStatus(), failure.message(), wwwAuthenticate(r), failure);
        return new JwtResult(
                new Token.Invalid(failure.message()),
                rejection,
                List.of(),
                List.of(),
                null,
                failure.message() + (detail == null ? "" : " (" + detail + ")"));
    }

    /** {@code Bearer realm="<scheme>://<host><path>", error="invalid_token"}, the path cut at 256 as Envoy. */
    static String wwwAuthenticate(JwtRequest r) {
        String path = r.path() == null ? "" : r.path();
        if (path.length() > MAX_REALM_PATH) {
            path = path.substring(0, MAX_REALM_PATH);
        }
        String scheme = r.scheme() == null ? "http" : r.scheme();
        String host = r.authority() == null ? "" : r.authority();
        return "Bearer realm=\"" + quoteSafe(scheme + "://" + host + path) + "\", error=\"invalid_token\"";
    }

    /** The realm is a quoted string: no quote, backslash or control character may end or break it. */
    private static String quoteSafe(String s) {
        var sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
                sb.append('%').append(String.format("%02X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean isCorsPreflight(JwtRequest r) {
        return "OPTIONS".equals(r.method())
                && !firstOrEmpty(r.header("origin")).isEmpty()
                && !firstOrEmpty(r.header("access-control-request-method")).isEmpty();
    }

    private static String firstOrEmpty(List<String> v) {
        return v.isEmpty() ? "" : v.getFirst();
    }
}
