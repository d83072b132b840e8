package io.ambit.waypoint.jwt;

import static io.ambit.waypoint.jwt.JwtFixtures.ISSUER;
import static io.ambit.waypoint.jwt.JwtFixtures.NOW;
import static io.ambit.waypoint.jwt.JwtFixtures.await;
import static io.ambit.waypoint.jwt.JwtFixtures.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.Token;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EdDSA tokens (RFC 8037: OKP keys, curve Ed25519) verified with the JDK's own Ed25519, with the JWKS
 * served over HTTP: tokens signed by a JDK-generated key and by the {@code openssl} command, a wrong key, a
 * changed payload, keys on other curves, and algorithm confusion with the OKP key's bytes.
 * Addresses: 127.98.4.0/24.
 */
class Ed25519JwksTest {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    @TempDir
    Path dir;

    private final JwtFixtures.FakeClock clock = new JwtFixtures.FakeClock(NOW);
    private final JwksCache cache = new JwksCache(JwksCache.Settings.DEFAULT, clock);
    private final JwksServer server;

    Ed25519JwksTest() throws Exception {
        server = new JwksServer("127.98.4.1");
    }

    @AfterEach
    void close() {
        cache.close();
        server.close();
    }

    private static KeyPair ed25519() throws Exception {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    /** The 32 raw public-key bytes: the end of the X.509 SubjectPublicKeyInfo (RFC 8410). */
    private static byte[] raw(byte[] spki) {
        return Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    }

    private static String okp(String kid, String crv, byte[] x) {
        return "{\"kty\":\"OKP\",\"crv\":\"" + crv + "\",\"kid\":\"" + kid + "\",\"x\":\"" + B64.encodeToString(x)
                + "\"}";
    }

    private JwtAuthenticator serving(String... keys) {
        server.serve("{\"keys\":[" + String.join(",", keys) + "]}");
        return JwtAuthenticator.of(List.of(JwtFixtures.rule(ISSUER, List.of(), server.uri("/jwks.json"), null)), cache);
    }

    private static String signingInput(String alg, String kid, String sub) {
        String header = "{\"alg\":\"" + alg + "\",\"kid\":\"" + kid + "\",\"typ\":\"JWT\"}";
        String payload =
                "{\"iss\":\"" + ISSUER + "\",\"sub\":\"" + sub + "\",\"exp\":" + (NOW.getEpochSecond() + 600) + "}";
        return B64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + B64.encodeToString(payload.getBytes(StandardCharsets.UTF_8));
    }

    private static String signed(PrivateKey key, String input) throws Exception {
        var s = Signature.getInstance("Ed25519");
        s.initSign(key);
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + B64.encodeToString(s.sign());
    }

    @Test
    void anEdDsaTokenSignedByAJdkKeyVerifiesAgainstTheServedJwks() throws Exception {
        var pair = ed25519();
        var a = serving(okp("ed-1", "Ed25519", raw(pair.getPublic().getEncoded())));
        var r = await(a.authenticate(bearer(signed(pair.getPrivate(), signingInput("EdDSA", "ed-1", "alice")))));
        assertThat(r.rejected()).as("%s", r).isFalse();
        assertThat(((Token.Verified) r.token()).subject()).isEqualTo("alice");
    }

    @Test
    void aTokenSignedByAnotherKeyWithTheSameKidIsRefused() throws Exception {
        var served = ed25519();
        var attacker = ed25519();
        var a = serving(okp("ed-1", "Ed25519", raw(served.getPublic().getEncoded())));
        var r = await(a.authenticate(bearer(signed(attacker.getPrivate(), signingInput("EdDSA", "ed-1", "mallory")))));
        assertThat(r.rejection().status()).isEqualTo(401);
        assertThat(r.rejection().body()).isEqualTo("Jwt verification fails");
    }

    @Test
    void aChangedPayloadBreaksTheSignature() throws Exception {
        var pair = ed25519();
        var a = serving(okp("ed-1", "Ed25519", raw(pair.getPublic().getEncoded())));
        String good = signed(pair.getPrivate(), signingInput("EdDSA", "ed-1", "alice"));
        String[] parts = good.split("\\.");
        String forged = parts[0] + "." + signingInput("EdDSA", "ed-1", "admin").split("\\.")[1] + "." + parts[2];
        assertThat(await(a.authenticate(bearer(forged))).rejection().body()).isEqualTo("Jwt verification fails");
    }

    @Test
    void theOkpKeyBytesAreNeverAnHmacSecret() throws Exception {
        var pair = ed25519();
        byte[] x = raw(pair.getPublic().getEncoded());
        var a = serving(okp("ed-1", "Ed25519", x));
        // HS256 keyed with the public key's bytes: the classic confusion, refused for lack of a fitting key.
        String input = signingInput("HS256", "ed-1", "mallory");
        var mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(x, "HmacSHA256"));
        String token = input + "." + B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        var r = await(a.authenticate(bearer(token)));
        assertThat(r.rejection().body()).isEqualTo("Jwks doesn't have key to match kid or alg from Jwt");
    }

    @Test
    void keysOnOtherCurvesOrWithAPrivatePartAreSkippedWithTheReason() throws Exception {
        var pair = ed25519();
        byte[] x = raw(pair.getPublic().getEncoded());
        var set = KeySet.parse("{\"keys\":[" + okp("x", "X25519", x) + "," + okp("448", "Ed448", new byte[57]) + ","
                + "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"leak\",\"x\":\"" + B64.encodeToString(x)
                + "\",\"d\":\"" + B64.encodeToString(new byte[32]) + "\"},"
                + okp("short", "Ed25519", new byte[31]) + "]}");
        assertThat(set.isEmpty()).isTrue();
        assertThat(set.problems())
                .anySatisfy(
                        p -> assertThat(p).contains("kid x").contains("X25519").contains("expected: Ed25519"))
                .anySatisfy(p -> assertThat(p).contains("kid 448").contains("Ed448"))
                .anySatisfy(p -> assertThat(p).contains("kid leak").contains("private"))
                .anySatisfy(p -> assertThat(p).contains("kid short").contains("31 bytes"));
        // Only skipped keys: every token of the issuer is refused.
        var a = serving(okp("x", "X25519", x));
        var r = await(a.authenticate(bearer(signed(pair.getPrivate(), signingInput("EdDSA", "x", "alice")))));
        assertThat(r.rejected()).isTrue();
    }

    @Test
    void anEdDsaTokenSignedByOpensslVerifies() throws Exception {
        openssl("genpkey", "-algorithm", "ed25519", "-out", "key.pem");
        openssl("pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der");
        var a = serving(okp("ossl-ed", "Ed25519", raw(Files.readAllBytes(dir.resolve("pub.der")))));
        String input = signingInput("EdDSA", "ossl-ed", "bob");
        Files.writeString(dir.resolve("input"), input, StandardCharsets.US_ASCII);
        openssl("pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "input", "-out", "sig.bin");
        byte[] sig = Files.readAllBytes(dir.resolve("sig.bin"));
        var r = await(a.authenticate(bearer(input + "." + B64.encodeToString(sig))));
        assertThat(((Token.Verified) r.token()).subject()).isEqualTo("bob");

        sig[10] ^= 1;
        assertThat(await(a.authenticate(bearer(input + "." + B64.encodeToString(sig))))
                        .rejection()
                        .body())
                .isEqualTo("Jwt verification fails");
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
}
