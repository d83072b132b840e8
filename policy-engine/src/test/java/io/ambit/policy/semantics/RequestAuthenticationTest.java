package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.assertRejected;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.headers;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.l4;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.load;
import static io.ambit.policy.semantics.Fixture.requestAuth;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.engine.Token;
import io.ambit.policy.semantics.Fixture.Expect;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §4: JWT validation at the waypoint, after CUSTOM and before DENY/ALLOW. */
class RequestAuthenticationTest {
    private static final String ISS = "https://issuer.example.com";
    private static final String OTHER_ISS = "https://other.example.com";
    private static final String JWT = waypointRequestAuth("jwt", "jwtRules: [{issuer: " + ISS + "}]\n");
    private static final String JWT_AUD =
            waypointRequestAuth("jwt", "jwtRules: [{issuer: " + ISS + ", audiences: [api, billing]}]\n");
    private static final String REQUIRE_ANY_PRINCIPAL =
            waypointPolicy("require", "rules: [{from: [{source: {requestPrincipals: [\"*\"]}}]}]\n");

    private static Token.Verified token(String issuer, String subject, List<String> audiences) {
        return new Token.Verified(issuer, subject, audiences, null, Map.of());
    }

    @ParameterizedTest
    @MethodSource
    void requestAuthentication(String yaml, AccessRequest request, Expect expected, int httpStatus) {
        var d = snapshot(yaml).decideL7(request);
        check(d, expected);
        if (httpStatus != 0) {
            assertThat(d.httpStatus()).as("HTTP status").isEqualTo(httpStatus);
        }
    }

    private static Arguments rejected(String name, String yaml, AccessRequest request, int status) {
        return argumentSet(name, yaml, request, denied(Reason.JWT), status);
    }

    private static Arguments decided(String name, String yaml, AccessRequest request, Expect expected) {
        return argumentSet(name, yaml, request, expected, 0);
    }

    static Stream<Arguments> requestAuthentication() {
        return Stream.of(
                decided(
                        "without attached rules an invalid token is ignored",
                        "",
                        l7().token(new Token.Invalid("expired")).build(),
                        allowedNoAllowPolicy()),
                decided(
                        "without attached rules a token gives no request principal",
                        REQUIRE_ANY_PRINCIPAL,
                        l7().token(jwt(ISS, "alice")).build(),
                        deniedNoAllowMatched()),
                decided(
                        "without a token the request is accepted and authorization decides (no policy: allowed)",
                        JWT,
                        l7().build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "without a token there is no request principal, so requiring one denies with 403",
                        docs(JWT, REQUIRE_ANY_PRINCIPAL),
                        l7().build(),
                        deniedNoAllowMatched(),
                        403),
                rejected(
                        "a token that fails verification is rejected with 401",
                        JWT,
                        l7().token(new Token.Invalid("bad signature")).build(),
                        401),
                rejected(
                        "a token from an unknown issuer is rejected with 401, not treated as no token",
                        JWT,
                        l7().token(jwt(OTHER_ISS, "alice")).build(),
                        401),
                rejected(
                        "a token without an allowed audience is rejected with 403",
                        JWT_AUD,
                        l7().token(token(ISS, "alice", List.of("web"))).build(),
                        403),
                rejected(
                        "a token with no audience at all fails an audience check with 403",
                        JWT_AUD,
                        l7().token(token(ISS, "alice", List.of())).build(),
                        403),
                decided(
                        "a token with one of the audiences is accepted",
                        docs(JWT_AUD, REQUIRE_ANY_PRINCIPAL),
                        l7().token(token(ISS, "alice", List.of("web", "billing")))
                                .build(),
                        allowedBy("foo/require", 0)),
                decided(
                        "without configured audiences there is no audience check",
                        docs(JWT, REQUIRE_ANY_PRINCIPAL),
                        l7().token(token(ISS, "alice", List.of("anything"))).build(),
                        allowedBy("foo/require", 0)),
                decided(
                        "with several rules for one issuer, passing any one is enough",
                        docs(
                                waypointRequestAuth(
                                        "jwt",
                                        "jwtRules:\n- {issuer: " + ISS + ", audiences: [api]}\n- {issuer: " + ISS
                                                + ", audiences: [billing]}\n"),
                                REQUIRE_ANY_PRINCIPAL),
                        l7().token(token(ISS, "alice", List.of("billing"))).build(),
                        allowedBy("foo/require", 0)),
                decided(
                        "the rules of all attached RequestAuthentications are merged",
                        docs(
                                JWT,
                                requestAuth(
                                        "foo",
                                        "jwt-other",
                                        "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n"
                                                + "jwtRules: [{issuer: " + OTHER_ISS + "}]\n"),
                                REQUIRE_ANY_PRINCIPAL),
                        l7().token(jwt(OTHER_ISS, "bob")).build(),
                        allowedBy("foo/require", 0)),
                decided(
                        "the request principal of a validated token is iss/sub",
                        docs(
                                JWT,
                                waypointPolicy(
                                        "p",
                                        "rules: [{from: [{source: {requestPrincipals: [\"" + ISS + "/alice\"]}}]}]\n")),
                        l7().token(jwt(ISS, "alice")).build(),
                        allowedBy("foo/p", 0)),
                decided(
                        "scope is always split on spaces for matching",
                        docs(JWT, claimPolicy("scope", "write")),
                        l7().token(jwt(ISS, "alice", Map.of("scope", "read write")))
                                .build(),
                        allowedBy("foo/p", 0)),
                decided(
                        "permission is always split on spaces for matching",
                        docs(JWT, claimPolicy("permission", "orders:read")),
                        l7().token(jwt(ISS, "alice", Map.of("permission", "orders:read orders:write")))
                                .build(),
                        allowedBy("foo/p", 0)),
                decided(
                        "spaceDelimitedClaims splits further claims",
                        docs(
                                waypointRequestAuth(
                                        "jwt", "jwtRules: [{issuer: " + ISS + ", spaceDelimitedClaims: [roles]}]\n"),
                                claimPolicy("roles", "ops")),
                        l7().token(jwt(ISS, "alice", Map.of("roles", "admin ops")))
                                .build(),
                        allowedBy("foo/p", 0)),
                decided(
                        "claims not declared space-delimited are not split",
                        docs(JWT, claimPolicy("roles", "ops")),
                        l7().token(jwt(ISS, "alice", Map.of("roles", "admin ops")))
                                .build(),
                        deniedNoAllowMatched()),
                decided(
                        "a CORS preflight request bypasses JWT checks",
                        JWT,
                        l7("OPTIONS", "/api")
                                .headers(headers(
                                        "origin", "https://app.example.com", "access-control-request-method", "POST"))
                                .token(new Token.Invalid("bad signature"))
                                .build(),
                        allowedNoAllowPolicy()));
    }

    private static String claimPolicy(String claim, String value) {
        return waypointPolicy(
                "p", "rules: [{when: [{key: \"request.auth.claims[" + claim + "]\", values: [\"" + value + "\"]}]}]\n");
    }

    @ParameterizedTest
    @MethodSource
    void theIssuerIsRequired(String jwtRules) {
        assertRejected(load(waypointRequestAuth("jwt", jwtRules)), "spec.jwtRules[0]");
    }

    static Stream<Arguments> theIssuerIsRequired() {
        return Stream.of(
                argumentSet(
                        "a jwtRule without issuer is rejected",
                        "jwtRules: [{jwksUri: https://issuer.example.com/jwks}]\n"),
                argumentSet("a jwtRule with an empty issuer is rejected", "jwtRules: [{issuer: \"\"}]\n"));
    }

    @ParameterizedTest
    @MethodSource
    void ztunnelNeverProcessesJwts(Token token) {
        var yaml = requestAuth(
                "foo", "jwt", "selector: {matchLabels: {app: httpbin}}\njwtRules: [{issuer: " + ISS + "}]\n");
        check(snapshot(yaml).decideL4(l4().token(token).build()), allowedNoAllowPolicy());
    }

    static Stream<Arguments> ztunnelNeverProcessesJwts() {
        return Stream.of(
                argumentSet("an invalid token passes ztunnel", new Token.Invalid("expired")),
                argumentSet("an unknown-issuer token passes ztunnel", jwt(OTHER_ISS, "alice")));
    }
}
