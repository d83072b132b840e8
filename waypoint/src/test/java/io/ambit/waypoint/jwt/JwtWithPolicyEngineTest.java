package io.ambit.waypoint.jwt;

import static io.ambit.waypoint.jwt.JwtFixtures.NOW;
import static io.ambit.waypoint.jwt.JwtFixtures.await;
import static io.ambit.waypoint.jwt.JwtFixtures.claims;
import static io.ambit.waypoint.jwt.JwtFixtures.jwks;
import static io.ambit.waypoint.jwt.JwtFixtures.sign;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.MeshConfig;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The article's "JWT Validation" example at a waypoint (targetRefs instead of the sidecar selector):
 * the authenticator's token feeds the policy engine, which decides with {@code request.auth.claims} and
 * {@code request.auth.principal}. (The article's second condition, {@code request.auth.claims[exp]} with
 * {@code "*"}, is left out: {@code exp} is a number, and claim conditions match strings only.)
 */
class JwtWithPolicyEngineTest {
    private static final RSAKey KEY = JwtFixtures.rsa("idp-1");
    private static final AccessRequest.Destination DESTINATION =
            new AccessRequest.Destination("api", Map.of(), null, "api-gateway", null);

    private final JwtFixtures.FakeClock clock = new JwtFixtures.FakeClock(NOW);
    private final JwksCache cache = new JwksCache(JwksCache.Settings.DEFAULT, clock);
    private final PolicySnapshot snapshot;
    private final JwtAuthenticator auth;

    JwtWithPolicyEngineTest() {
        String yaml = """
                apiVersion: security.istio.io/v1beta1
                kind: RequestAuthentication
                metadata: {name: jwt-auth, namespace: api}
                spec:
                  targetRefs: [{kind: Service, group: "", name: api-gateway}]
                  jwtRules:
                    - issuer: "https://auth.company.example"
                      jwks: '%s'
                      audiences: ["api.company.example"]
                      forwardOriginalToken: true
                ---
                apiVersion: security.istio.io/v1beta1
                kind: AuthorizationPolicy
                metadata: {name: require-jwt, namespace: api}
                spec:
                  targetRefs: [{kind: Service, group: "", name: api-gateway}]
                  rules:
                    - when:
                        - key: request.auth.claims[role]
                          values: ["admin", "user"]
                        - key: request.auth.principal
                          values: ["https://auth.company.example/alice"]
                """.formatted(jwks(KEY));
        var loaded = new PolicyLoader(false).text(yaml, "article.yaml").result();
        assertThat(loaded.errors()).isEmpty();
        snapshot = PolicyCompiler.compile(loaded.policies(), MeshConfig.DEFAULT, Clock.fixed(NOW, ZoneOffset.UTC));
        // the rules the engine attaches to the destination: exactly what the waypoint verifies tokens against
        auth = JwtAuthenticator.of(snapshot.jwtRules(DESTINATION), cache);
    }

    @AfterEach
    void close() {
        cache.close();
    }

    private record Outcome(JwtResult jwt, Decision decision) {}

    private Outcome call(Map<String, List<String>> headers) {
        var jwt = await(auth.authenticate(new JwtRequest("GET", "http", "api-gateway.api", "/orders", headers)));
        var request = AccessRequest.builder()
                .destination(DESTINATION)
                .sourceIp("10.0.0.1")
                .http("GET", "api-gateway.api", "/orders")
                .headers(headers)
                .token(jwt.token())
                .build();
        return new Outcome(jwt, snapshot.decideL7(request));
    }

    @Test
    void anAdminTokenIsAllowedByTheClaimCondition() {
        var o = call(Map.of("authorization", List.of("Bearer " + sign(KEY))));
        assertThat(o.decision().allowed()).as(o.decision().explanation()).isTrue();
        assertThat(o.jwt().removeHeaders()).doesNotContain("authorization"); // forwardOriginalToken: true
    }

    @Test
    void aTokenWithoutARoleIsDeniedByAllow() {
        var o = call(Map.of("authorization", List.of("Bearer " + sign(KEY, claims(b -> b.claim("role", "guest"))))));
        assertThat(o.jwt().rejected()).isFalse();
        assertThat(o.decision().allowed()).isFalse();
        assertThat(o.decision().httpStatus()).isEqualTo(403);
        assertThat(o.decision().reason()).isEqualTo(Decision.Reason.AUTHZ);
    }

    @Test
    void noTokenPassesAuthenticationAndIsDeniedByAllow() {
        var o = call(Map.of());
        assertThat(o.jwt().rejected()).isFalse();
        assertThat(o.decision().httpStatus()).isEqualTo(403);
    }

    @Test
    void aForgedTokenIsAJwtDenialAnsweredWith401() {
        var o = call(Map.of("authorization", List.of("Bearer " + sign(JwtFixtures.rsa("idp-1")))));
        assertThat(o.decision().reason()).isEqualTo(Decision.Reason.JWT);
        assertThat(o.decision().httpStatus()).isEqualTo(401);
        assertThat(o.jwt().rejection().status()).isEqualTo(401);
        assertThat(o.jwt().rejection().wwwAuthenticate()).contains("error=\"invalid_token\"");
    }

    @Test
    void aTokenForAnotherAudienceIsAJwtDenialAnsweredWith403() {
        var o = call(Map.of("authorization", List.of("Bearer " + sign(KEY, claims(b -> b.audience("other"))))));
        assertThat(o.decision().reason()).isEqualTo(Decision.Reason.JWT);
        assertThat(o.jwt().rejection().status()).isEqualTo(403);
        assertThat(o.jwt().rejection().body()).isEqualTo("Audiences in Jwt are not allowed");
    }
}
