package io.ambit.waypoint.jwt;

import static io.ambit.waypoint.jwt.JwtFixtures.NOW;
import static io.ambit.waypoint.jwt.JwtFixtures.await;
import static io.ambit.waypoint.jwt.JwtFixtures.bearer;
import static io.ambit.waypoint.jwt.JwtFixtures.claims;
import static io.ambit.waypoint.jwt.JwtFixtures.inlineRule;
import static io.ambit.waypoint.jwt.JwtFixtures.jwks;
import static io.ambit.waypoint.jwt.JwtFixtures.sign;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import io.ambit.policy.engine.Token;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Security cases 29–31 and the classic JWT attacks: every one must end in a refusal, never a principal. */
class JwtAttacksTest {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private final JwtFixtures.FakeClock clock = new JwtFixtures.FakeClock(NOW);
    private final JwksCache cache = new JwksCache(JwksCache.Settings.DEFAULT, clock);
    private static final RSAKey rsa = JwtFixtures.rsa("rsa-1");
    private final JwtAuthenticator auth = JwtAuthenticator.of(List.of(inlineRule(jwks(rsa))), cache);

    @AfterEach
    void close() {
        cache.close();
    }

    private static String b64(String json) {
        return B64.encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private String payload() {
        return B64.encodeToString(claims(b -> {}).toString().getBytes(StandardCharsets.UTF_8));
    }

    private JwtResult refused(String token) {
        var r = await(auth.authenticate(bearer(token)));
        assertThat(r.rejected()).as("token %s must be refused", token).isTrue();
        assertThat(r.token()).isInstanceOf(Token.Invalid.class);
        assertThat(r.rejection().status()).isEqualTo(401);
        return r;
    }

    @Test
    void algNoneIsRefused() {
        for (String alg : new String[] {"none", "None", "NONE", "nOnE"}) {
            String token = b64("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}") + "." + payload() + ".";
            refused(token);
            assertThat(refused(token + "c2ln").rejection().body()).isEqualTo("Jwt header [alg] field value is invalid");
        }
    }

    @Test
    void hmacSignedWithTheRsaPublicKeyIsRefused() throws Exception {
        // alg confusion: the attacker knows the public key and uses it as an HMAC secret
        byte[][] secrets = {
            rsa.toRSAPublicKey().getEncoded(),
            pem(rsa.toRSAPublicKey().getEncoded()).getBytes(StandardCharsets.US_ASCII),
            rsa.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8),
            rsa.getModulus().decode(),
        };
        for (byte[] secret : secrets) {
            for (String alg : new String[] {"HS256", "HS384", "HS512"}) {
                String input = b64("{\"alg\":\"" + alg + "\",\"kid\":\"rsa-1\"}") + "." + payload();
                var r = refused(input + "." + hmac(alg, secret, input));
                assertThat(r.rejection().body()).isEqualTo("Jwks doesn't have key to match kid or alg from Jwt");
            }
        }
    }

    @Test
    void aKeyEmbeddedInTheTokenHeaderIsNeverUsed() throws Exception {
        var attacker = JwtFixtures.rsa("rsa-1");
        var header = new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256)
                .keyID("rsa-1")
                .jwk(attacker.toPublicJWK())
                .x509CertURL(java.net.URI.create("https://evil.example/cert"))
                .jwkURL(java.net.URI.create("https://evil.example/jwks"))
                .build();
        var jwt = new com.nimbusds.jwt.SignedJWT(header, claims(b -> {}));
        jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(attacker));
        assertThat(refused(jwt.serialize()).rejection().body()).isEqualTo("Jwt verification fails");
    }

    @Test
    void kidInjectionIsOnlyEverALookupThatFails() {
        for (String kid : new String[] {
            "../../../../dev/null", "' OR '1'='1", "rsa-1\u0000", "http://evil.example/key", "rsa-1 ", "*"
        }) {
            assertThat(refused(sign(JwtFixtures.ec(kid), claims(b -> {})))
                            .rejection()
                            .body())
                    .isEqualTo("Jwks doesn't have key to match kid or alg from Jwt");
        }
        String longKid = "k".repeat(ParsedJwt.MAX_KID_LENGTH + 1);
        assertThat(refused(b64("{\"alg\":\"RS256\",\"kid\":\"" + longKid + "\"}") + "." + payload() + ".c2ln")
                        .rejection()
                        .failure())
                .isEqualTo(JwtFailure.KID_TOO_LONG);
        assertThat(refused(b64("{\"alg\":\"RS256\",\"kid\":7}") + "." + payload() + ".c2ln")
                        .rejection()
                        .body())
                .isEqualTo("Jwt header [kid] field is not a string");
    }

    @Test
    void aValidSignatureOnAnotherPayloadDoesNotCarryOver() {
        String[] good = sign(rsa).split("\\.");
        String forged =
                good[0] + "." + b64("{\"iss\":\"" + JwtFixtures.ISSUER + "\",\"sub\":\"root\"}") + "." + good[2];
        assertThat(refused(forged).rejection().body()).isEqualTo("Jwt verification fails");
        assertThat(refused(good[0] + "." + good[1] + ".").rejection().body())
                .isEqualTo("Jwt signature is an invalid Base64");
    }

    static Stream<Arguments> garbage() {
        String h = b64("{\"alg\":\"RS256\"}");
        String p = b64("{\"iss\":\"" + JwtFixtures.ISSUER + "\"}");
        return Stream.of(
                Arguments.of("an empty bearer value", "", JwtFailure.BAD_FORMAT),
                Arguments.of("one part", "abc", JwtFailure.BAD_FORMAT),
                Arguments.of("two parts", h + "." + p, JwtFailure.BAD_FORMAT),
                Arguments.of("five parts (a JWE)", h + "." + p + ".a.b.c", JwtFailure.BAD_FORMAT),
                Arguments.of("an empty payload", h + "..c2ln", JwtFailure.BAD_FORMAT),
                Arguments.of("a header that is not base64url", "eyJ~!." + p + ".c2ln", JwtFailure.HEADER_PARSE_ERROR),
                Arguments.of("junk before the token", "%%%." + p + ".c2ln", JwtFailure.BAD_FORMAT),
                Arguments.of(
                        "a header that is not JSON",
                        b64("not json") + "." + p + ".c2ln",
                        JwtFailure.HEADER_PARSE_ERROR),
                Arguments.of(
                        "a header that is a JSON array", b64("[1]") + "." + p + ".c2ln", JwtFailure.HEADER_PARSE_ERROR),
                Arguments.of(
                        "a header with two algs",
                        b64("{\"alg\":\"RS256\",\"alg\":\"none\"}") + "." + p + ".c2ln",
                        JwtFailure.HEADER_PARSE_ERROR),
                Arguments.of("a numeric alg", b64("{\"alg\":256}") + "." + p + ".c2ln", JwtFailure.HEADER_BAD_ALG),
                Arguments.of("no alg", b64("{\"typ\":\"JWT\"}") + "." + p + ".c2ln", JwtFailure.HEADER_BAD_ALG),
                Arguments.of(
                        "an unknown alg",
                        b64("{\"alg\":\"RS1\"}") + "." + p + ".c2ln",
                        JwtFailure.HEADER_ALG_NOT_IMPLEMENTED),
                Arguments.of("padding in the header", h + "==." + p + ".c2ln", JwtFailure.HEADER_PARSE_ERROR),
                Arguments.of(
                        "a payload that is not JSON", h + "." + b64("{") + ".c2ln", JwtFailure.PAYLOAD_PARSE_ERROR),
                Arguments.of("a numeric iss", h + "." + b64("{\"iss\":1}") + ".c2ln", JwtFailure.PAYLOAD_PARSE_ERROR),
                Arguments.of(
                        "a string exp",
                        h + "." + b64("{\"iss\":\"x\",\"exp\":\"soon\"}") + ".c2ln",
                        JwtFailure.PAYLOAD_PARSE_ERROR),
                Arguments.of(
                        "a fractional exp",
                        h + "." + b64("{\"iss\":\"x\",\"exp\":1.5}") + ".c2ln",
                        JwtFailure.PAYLOAD_PARSE_ERROR),
                Arguments.of(
                        "an aud list with a number",
                        h + "." + b64("{\"iss\":\"x\",\"aud\":[\"a\",1]}") + ".c2ln",
                        JwtFailure.PAYLOAD_PARSE_ERROR),
                Arguments.of(
                        "a signature with illegal characters",
                        h + "." + p + ".sig+/=",
                        JwtFailure.SIGNATURE_PARSE_ERROR),
                Arguments.of(
                        "a header nested 10,000 deep",
                        b64("{\"alg\":\"RS256\",\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}") + "." + p
                                + ".c2ln",
                        JwtFailure.TOO_LARGE),
                Arguments.of(
                        "a header nested 300 deep",
                        b64("{\"alg\":\"RS256\",\"x\":" + "[".repeat(300) + "]".repeat(300) + "}") + "." + p + ".c2ln",
                        JwtFailure.HEADER_PARSE_ERROR),
                Arguments.of(
                        "a payload nested 300 deep",
                        h + "." + b64("{\"iss\":\"x\",\"x\":" + "[".repeat(300) + "]".repeat(300) + "}") + ".c2ln",
                        JwtFailure.PAYLOAD_PARSE_ERROR),
                Arguments.of("a token of 1 MiB", h + "." + "A".repeat(1 << 20) + ".c2ln", JwtFailure.TOO_LARGE));
    }

    @ParameterizedTest(name = "{0} is refused")
    @MethodSource("garbage")
    void garbageIsRefusedWithEnvoysReason(String name, String token, JwtFailure expected) {
        assertThat(refused(token).rejection().failure()).isEqualTo(expected);
    }

    @Test
    void aTokenVerifiedForOneKeySetIsNotTakenAsVerifiedByAnother() {
        String token = sign(rsa);
        assertThat(await(auth.authenticate(bearer(token))).rejected()).isFalse(); // cached as verified by rsa
        var otherKeys = JwtAuthenticator.of(List.of(inlineRule(jwks(JwtFixtures.rsa("rsa-1")))), cache);
        assertThat(refused(otherKeys, token).rejection().body()).isEqualTo("Jwt verification fails");
    }

    private JwtResult refused(JwtAuthenticator a, String token) {
        var r = await(a.authenticate(bearer(token)));
        assertThat(r.rejected()).isTrue();
        return r;
    }

    @Test
    void anUnknownCriticalHeaderIsRefused() throws Exception {
        var header = new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256)
                .keyID("rsa-1")
                .criticalParams(java.util.Set.of("exp-policy"))
                .customParam("exp-policy", "ignore")
                .build();
        var jwt = new com.nimbusds.jwt.SignedJWT(header, claims(b -> {}));
        jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(rsa));
        assertThat(refused(jwt.serialize()).rejection().body()).isEqualTo("Jwt verification fails");
    }

    private static String hmac(String alg, byte[] secret, String input) throws Exception {
        String jca = "Hmac" + "SHA" + alg.substring(2);
        Mac mac = Mac.getInstance(jca);
        mac.init(new SecretKeySpec(secret, jca));
        return B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    }

    private static String pem(byte[] der) {
        return "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END PUBLIC KEY-----\n";
    }
}
