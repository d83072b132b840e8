package io.ambit.waypoint.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.engine.Token;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example's token minter ({@code examples/policies/ext-authz-and-jwt/mint-jwt.mjs}, Node's crypto — an
 * independent signer): its tokens verify against the JWKS it writes, served over HTTP, as the example's
 * RequestAuthentication fetches it.
 */
class ExampleMintJwtTest {
    static final Path EXAMPLE = Path.of("..", "examples", "policies", "ext-authz-and-jwt");

    @TempDir
    Path dir;

    private final JwksCache cache = new JwksCache();
    private final JwksServer server;

    ExampleMintJwtTest() throws Exception {
        server = new JwksServer("127.93.1.4");
    }

    @AfterEach
    void close() {
        cache.close();
        server.close();
    }

    private String mint(String... args) throws Exception {
        var cmd = new java.util.ArrayList<>(
                List.of("node", EXAMPLE.resolve("mint-jwt.mjs").toString(), "--dir", dir.toString()));
        cmd.addAll(List.of(args));
        var p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("mint-jwt.mjs did not finish");
        }
        assertThat(p.exitValue()).isZero();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
    }

    private JwtResult verify(String token) {
        server.serve(Files.exists(dir.resolve("jwks.json")) ? read(dir.resolve("jwks.json")) : "{}");
        var rule = new JwtRule(
                "https://auth.shop.example",
                List.of("api.shop.example"),
                server.uri("/jwks.json"),
                null,
                List.of(),
                List.of(),
                List.of(),
                null,
                false,
                List.of(new JwtRule.ClaimToHeader("x-jwt-role", "role")),
                List.of());
        return JwtFixtures.await(JwtAuthenticator.of(List.of(rule), cache)
                .authenticate(new JwtRequest(
                        "GET", "http", "api.shop", "/orders", Map.of("authorization", List.of("Bearer " + token)))));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aMintedTokenVerifiesAndCarriesItsClaims() throws Exception {
        var r = verify(mint("--sub", "alice", "--role", "admin"));
        assertThat(r.rejected()).as(r.detail()).isFalse();
        var t = (Token.Verified) r.token();
        assertThat(t.subject()).isEqualTo("alice");
        assertThat(r.addHeaders()).containsExactly(Map.entry("x-jwt-role", "admin"));
    }

    @Test
    void theTableOfTheExampleReadme() throws Exception {
        assertThat(verify(mint("--ttl", "-120")).rejection().body()).isEqualTo("Jwt is expired");
        assertThat(verify(mint("--aud", "other")).rejection().status()).isEqualTo(403);
        String token = mint();
        Files.delete(dir.resolve("key.pem")); // a new key with the same kid: the old token no longer verifies
        mint();
        assertThat(verify(token).rejection().body()).isEqualTo("Jwt verification fails");
    }
}
