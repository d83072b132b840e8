package io.ambit.waypoint.jwt;

import static io.ambit.waypoint.jwt.JwtFixtures.ISSUER;
import static io.ambit.waypoint.jwt.JwtFixtures.NOW;
import static io.ambit.waypoint.jwt.JwtFixtures.await;
import static io.ambit.waypoint.jwt.JwtFixtures.bearer;
import static io.ambit.waypoint.jwt.JwtFixtures.claims;
import static io.ambit.waypoint.jwt.JwtFixtures.inlineRule;
import static io.ambit.waypoint.jwt.JwtFixtures.jwks;
import static io.ambit.waypoint.jwt.JwtFixtures.request;
import static io.ambit.waypoint.jwt.JwtFixtures.rule;
import static io.ambit.waypoint.jwt.JwtFixtures.sign;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.engine.Token;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class JwtAuthenticatorTest {
    private final JwtFixtures.FakeClock clock = new JwtFixtures.FakeClock(NOW);
    private final JwksCache cache = new JwksCache(JwksCache.Settings.DEFAULT, clock);
    private static final RSAKey rsa = JwtFixtures.rsa("rsa-1");
    private static final ECKey ec = JwtFixtures.ec("ec-1");

    @AfterEach
    void close() {
        cache.close();
    }

    private JwtAuthenticator inline(JwtRule... rules) {
        return JwtAuthenticator.of(List.of(rules), cache);
    }

    private JwtResult run(JwtAuthenticator a, JwtRequest r) {
        return await(a.authenticate(r));
    }

    @Test
    void anRs256TokenSignedByAJwksKeyYieldsTheIssuerSubjectAudiencesAndClaims() {
        var a = inline(inlineRule(jwks(rsa)));
        var r = run(a, bearer(sign(rsa, claims(b -> b.claim("azp", "web").claim("scope", "read write")))));
        assertThat(r.rejected()).isFalse();
        var t = (Token.Verified) r.token();
        assertThat(t.issuer()).isEqualTo(ISSUER);
        assertThat(t.subject()).isEqualTo("alice");
        assertThat(t.audiences()).containsExactly("api.company.example");
        assertThat(t.presenter()).isEqualTo("web");
        assertThat(t.claims()).containsEntry("role", "admin").containsEntry("scope", "read write");
        assertThat(t.claims().get("exp"))
                .isEqualTo(NOW.plus(Duration.ofHours(1)).getEpochSecond());
        // forwardOriginalToken is false by default: the upstream never sees the token
        assertThat(r.removeHeaders()).contains("authorization");
    }

    @Test
    void anEs256TokenVerifiesAgainstAnEcKey() {
        var a = inline(inlineRule(jwks(rsa, ec)));
        var r = run(a, bearer(sign(ec)));
        assertThat(r.token()).isInstanceOf(Token.Verified.class);
    }

    @Test
    void noTokenPassesWithoutAPrincipal() {
        var a = inline(inlineRule(jwks(rsa)));
        var r = run(a, request(Map.of("accept", List.of("*/*"))));
        assertThat(r.rejected()).isFalse();
        assertThat(r.token()).isEqualTo(Token.NONE);
    }

    @Test
    void withoutRulesATokenIsNotEvenLookedAt() {
        var r = run(inline(), bearer("garbage"));
        assertThat(r.rejected()).isFalse();
        assertThat(r.token()).isEqualTo(Token.NONE);
        assertThat(r.removeHeaders()).isEmpty();
    }

    @Test
    void aTokenOfAnIssuerNoRuleNamesIsRefusedNotIgnored() {
        var a = inline(inlineRule(jwks(rsa)));
        var r = run(a, bearer(sign(rsa, claims(b -> b.issuer("https://evil.example")))));
        assertThat(r.rejection().status()).isEqualTo(401);
        assertThat(r.rejection().body()).isEqualTo("Jwt issuer is not configured");
        assertThat(r.token()).isInstanceOf(Token.Invalid.class);
    }

    @Test
    void anExpiredTokenIsRefusedWithEnvoysBodyAndWwwAuthenticate() {
        var a = inline(inlineRule(jwks(rsa)));
        String token = sign(rsa);
        clock.advance(Duration.ofHours(1).plusSeconds(61)); // past exp + 60 s of skew
        var r = run(a, bearer(token));
        assertThat(r.rejection().status()).isEqualTo(401);
        assertThat(r.rejection().body()).isEqualTo("Jwt is expired");
        assertThat(r.rejection().wwwAuthenticate())
                .isEqualTo("Bearer realm=\"http://api.example:8080/orders?x=1\", error=\"invalid_token\"");
    }

    @Test
    void expiryAndNotBeforeAllowSixtySecondsOfClockSkewAndNoMore() {
        var a = inline(inlineRule(jwks(rsa)));
        String token = sign(rsa);
        clock.advance(Duration.ofHours(1).plusSeconds(60));
        assertThat(run(a, bearer(token)).rejected()).isFalse();

        String early =
                sign(rsa, claims(b -> b.notBeforeTime(Date.from(clock.instant().plusSeconds(60)))));
        assertThat(run(a, bearer(early)).rejected()).isFalse();
        String tooEarly =
                sign(rsa, claims(b -> b.notBeforeTime(Date.from(clock.instant().plusSeconds(61)))));
        assertThat(run(a, bearer(tooEarly)).rejection().body()).isEqualTo("Jwt not yet valid");
    }

    @Test
    void aTokenWithoutExpNeverExpiresAsInEnvoy() {
        var a = inline(inlineRule(jwks(rsa)));
        String token = sign(rsa, claims(b -> b.expirationTime(null)));
        clock.advance(Duration.ofDays(3650));
        assertThat(run(a, bearer(token)).rejected()).isFalse();
    }

    @Test
    void audiencesMustIntersectAndAMismatchIs403() {
        var a = inline(rule(ISSUER, List.of("https://api.company.example/", "other"), null, jwks(rsa)));
        // jwt_verify_lib compares audiences without scheme and trailing slash
        assertThat(run(a, bearer(sign(rsa))).rejected()).isFalse();
        var r = run(a, bearer(sign(rsa, claims(b -> b.audience(List.of("x", "y"))))));
        assertThat(r.rejection().status()).isEqualTo(403);
        assertThat(r.rejection().body()).isEqualTo("Audiences in Jwt are not allowed");
        var none = run(a, bearer(sign(rsa, claims(b -> b.audience((String) null)))));
        assertThat(none.rejection().status()).isEqualTo(403);
    }

    @Test
    void aTokenSignedByAnotherKeyFailsVerification() {
        var a = inline(inlineRule(jwks(rsa)));
        var r = run(a, bearer(sign(JwtFixtures.rsa("rsa-1"))));
        assertThat(r.rejection().body()).isEqualTo("Jwt verification fails");
        var unknownKid = run(a, bearer(sign(JwtFixtures.rsa("other"))));
        assertThat(unknownKid.rejection().body()).isEqualTo("Jwks doesn't have key to match kid or alg from Jwt");
    }

    @Test
    void rulesOfTheSameIssuerAreAlternatives() {
        var other = JwtFixtures.rsa("rsa-2");
        var a = inline(rule(ISSUER, List.of("nobody"), null, jwks(rsa)), rule(ISSUER, List.of(), null, jwks(other)));
        assertThat(run(a, bearer(sign(other))).rejected()).isFalse();
        // the first rule's failure is the one reported when none accepts
        assertThat(run(a, bearer(sign(rsa))).rejection().body()).isEqualTo("Audiences in Jwt are not allowed");
    }

    @Test
    void everyTokenOfARequestMustBeValid() {
        var rule = new JwtRule(
                ISSUER,
                List.of(),
                null,
                jwks(rsa),
                List.of(new JwtRule.HeaderLocation("x-jwt", "")),
                List.of("token"),
                List.of(),
                null,
                false,
                List.of(),
                List.of());
        var a = inline(rule);
        var good = sign(rsa);
        var bad = sign(rsa, claims(b -> b.expirationTime(Date.from(NOW.minusSeconds(3600)))));
        var both = new JwtRequest("GET", "http", "h", "/p?token=" + bad, Map.of("x-jwt", List.of(good)));
        assertThat(run(a, both).rejection().body()).isEqualTo("Jwt is expired");
        var twoGood =
                new JwtRequest("GET", "http", "h", "/p?a=1&token=" + good + "&b=2", Map.of("x-jwt", List.of(good)));
        var r = run(a, twoGood);
        assertThat(r.rejected()).isFalse();
        assertThat(r.removeHeaders()).contains("x-jwt");
        assertThat(r.path()).isEqualTo("/p?a=1&b=2");
    }

    @Test
    void moreTokensThanTheLimitAreRefused() {
        var a = inline(inlineRule(jwks(rsa)));
        var many = java.util.Collections.nCopies(JwtAuthenticator.MAX_TOKENS + 1, "Bearer " + sign(rsa));
        var r = run(a, request(Map.of("authorization", many)));
        assertThat(r.rejection().status()).isEqualTo(401);
        assertThat(r.rejection().failure()).isEqualTo(JwtFailure.TOO_MANY);
    }

    @Test
    void forwardOriginalTokenKeepsTheTokenAndOutputsAreWritten() {
        var rule = new JwtRule(
                ISSUER,
                List.of(),
                null,
                jwks(rsa),
                List.of(),
                List.of(),
                List.of(),
                "x-jwt-payload",
                true,
                List.of(
                        new JwtRule.ClaimToHeader("x-jwt-role", "role"),
                        new JwtRule.ClaimToHeader("X-Jwt-Level", "org.level"),
                        new JwtRule.ClaimToHeader("x-jwt-admin", "admin"),
                        new JwtRule.ClaimToHeader("x-jwt-groups", "groups"),
                        new JwtRule.ClaimToHeader("x-jwt-evil", "evil")),
                List.of());
        var a = inline(rule);
        String token = sign(rsa, claims(b -> b.claim("org", Map.of("level", 3L))
                .claim("admin", true)
                .claim("groups", List.of("a", "b"))
                .claim("evil", "x\r\nx-injected: 1")));
        var r = run(
                a,
                request(Map.of(
                        "authorization", List.of("Bearer " + token),
                        "x-jwt-role", List.of("spoofed-by-client"),
                        "x-jwt-payload", List.of("spoofed"))));
        assertThat(r.rejected()).isFalse();
        assertThat(r.removeHeaders()).doesNotContain("authorization").contains("x-jwt-role", "x-jwt-payload");
        assertThat(r.addHeaders())
                .containsExactly(
                        Map.entry("x-jwt-payload", token.split("\\.")[1]),
                        Map.entry("x-jwt-role", "admin"),
                        Map.entry("x-jwt-level", "3"),
                        Map.entry("x-jwt-admin", "true"));
    }

    @Test
    void outputHeadersAreRemovedEvenFromRequestsWithoutAToken() {
        var rule = new JwtRule(
                ISSUER,
                List.of(),
                null,
                jwks(rsa),
                List.of(),
                List.of(),
                List.of(),
                null,
                false,
                List.of(new JwtRule.ClaimToHeader("x-user", "sub")),
                List.of());
        var r = run(inline(rule), request(Map.of("x-user", List.of("admin"))));
        assertThat(r.token()).isEqualTo(Token.NONE);
        assertThat(r.removeHeaders()).containsExactly("x-user");
    }

    @Test
    void corsPreflightsBypassTheStage() {
        var a = inline(inlineRule(jwks(rsa)));
        var r = run(
                a,
                new JwtRequest(
                        "OPTIONS",
                        "http",
                        "h",
                        "/",
                        Map.of(
                                "origin", List.of("https://app.example"),
                                "access-control-request-method", List.of("POST"),
                                "authorization", List.of("Bearer garbage"))));
        assertThat(r.rejected()).isFalse();
        assertThat(r.token()).isEqualTo(Token.NONE);
        // an OPTIONS request without the CORS headers is judged
        var plain =
                run(a, new JwtRequest("OPTIONS", "http", "h", "/", Map.of("authorization", List.of("Bearer garbage"))));
        assertThat(plain.rejected()).isTrue();
    }

    @Test
    void theRealmIsQuotedSafelyAndCutAt256Characters() {
        var a = inline(inlineRule(jwks(rsa)));
        String path = "/\"x\\" + "a".repeat(400);
        var r = run(a, new JwtRequest("GET", null, "h", path, Map.of("authorization", List.of("Bearer x.y.z"))));
        String h = r.rejection().wwwAuthenticate();
        assertThat(h).startsWith("Bearer realm=\"http://h/%22x%5Caaa").endsWith("a\", error=\"invalid_token\"");
        assertThat(h).contains("a".repeat(252)).doesNotContain("a".repeat(253));
    }

    @Test
    void anInlineJwksThatIsNotAJwksRefusesEveryTokenAndSaysSo() {
        var a = inline(inlineRule("{\"not\":\"keys\"}"));
        assertThat(a.problems()).singleElement().asString().contains("jwks is not a JWKS");
        var r = run(a, bearer(sign(rsa)));
        assertThat(r.rejection().body()).isEqualTo("Jwks doesn't have any valid public key");
    }

    /** What stands in for a RequestAuthentication the cluster waypoint refused (xds-client's FailClosed). */
    @Test
    void anEmptyInlineJwksRefusesEveryTokenButLetsARequestWithoutOneThrough() {
        var a = inline(inlineRule("{\"keys\":[]}"));
        assertThat(a.problems()).singleElement().asString().contains("no usable key");
        var r = run(a, bearer(sign(rsa)));
        assertThat(r.rejection()).isNotNull();
        assertThat(r.rejection().status()).isEqualTo(401);
        var none = run(a, new JwtRequest("GET", null, "h", "/", Map.of()));
        assertThat(none.rejection()).isNull();
    }
}
