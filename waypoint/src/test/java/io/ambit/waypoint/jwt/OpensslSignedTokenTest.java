package io.ambit.waypoint.jwt;

import static io.ambit.waypoint.jwt.JwtFixtures.ISSUER;
import static io.ambit.waypoint.jwt.JwtFixtures.NOW;
import static io.ambit.waypoint.jwt.JwtFixtures.await;
import static io.ambit.waypoint.jwt.JwtFixtures.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import io.ambit.policy.engine.Token;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens signed by the {@code openssl} command, not by the library the waypoint verifies with, with their
 * JWKS served over HTTP: the verification works with an independent signer, and a one-bit change fails.
 */
class OpensslSignedTokenTest {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    @TempDir
    Path dir;

    private final JwtFixtures.FakeClock clock = new JwtFixtures.FakeClock(NOW);
    private final JwksCache cache = new JwksCache(JwksCache.Settings.DEFAULT, clock);
    private final JwksServer server;

    OpensslSignedTokenTest() throws Exception {
        server = new JwksServer("127.93.1.3");
    }

    @AfterEach
    void close() {
        cache.close();
        server.close();
    }

    private void openssl(String... args) throws Exception {
        var cmd = new java.util.ArrayList<String>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        var p = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("openssl " + String.join(" ", args) + " did not finish");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue())
                .as("openssl %s: %s", String.join(" ", args), out)
                .isZero();
    }

    private String signingInput(String alg, String kid) {
        String header = "{\"alg\":\"" + alg + "\",\"kid\":\"" + kid + "\",\"typ\":\"JWT\"}";
        String payload = "{\"iss\":\"" + ISSUER + "\",\"sub\":\"bob\",\"exp\":" + (NOW.getEpochSecond() + 600) + "}";
        return B64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + B64.encodeToString(payload.getBytes(StandardCharsets.UTF_8));
    }

    private byte[] sign(String input) throws Exception {
        Files.writeString(dir.resolve("input"), input, StandardCharsets.US_ASCII);
        openssl("dgst", "-sha256", "-sign", "key.pem", "-out", "sig.bin", "input");
        return Files.readAllBytes(dir.resolve("sig.bin"));
    }

    private JWK publicKey(String kid) throws Exception {
        openssl("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem");
        JWK jwk = JWK.parseFromPEMEncodedObjects(Files.readString(dir.resolve("pub.pem")));
        return jwk instanceof RSAKey r
                ? new RSAKey.Builder(r).keyID(kid).build()
                : new ECKey.Builder((ECKey) jwk).keyID(kid).build();
    }

    private JwtAuthenticator authenticator(JWK key) {
        server.serve(new JWKSet(key).toString());
        return JwtAuthenticator.of(List.of(JwtFixtures.rule(ISSUER, List.of(), server.uri("/jwks"), null)), cache);
    }

    @Test
    void anRs256TokenSignedByOpensslVerifies() throws Exception {
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem");
        var a = authenticator(publicKey("ossl-rsa"));
        String input = signingInput("RS256", "ossl-rsa");
        byte[] sig = sign(input);
        var r = await(a.authenticate(bearer(input + "." + B64.encodeToString(sig))));
        assertThat(((Token.Verified) r.token()).subject()).isEqualTo("bob");

        sig[sig.length / 2] ^= 1;
        assertThat(await(a.authenticate(bearer(input + "." + B64.encodeToString(sig))))
                        .rejection()
                        .body())
                .isEqualTo("Jwt verification fails");
    }

    @Test
    void anEs256TokenSignedByOpensslVerifies() throws Exception {
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem");
        var a = authenticator(publicKey("ossl-ec"));
        String input = signingInput("ES256", "ossl-ec");
        // openssl writes ECDSA signatures in DER; JWS wants R || S
        byte[] sig = ECDSA.transcodeSignatureToConcat(sign(input), 64);
        var r = await(a.authenticate(bearer(input + "." + B64.encodeToString(sig))));
        assertThat(r.token()).isInstanceOf(Token.Verified.class);
    }
}
