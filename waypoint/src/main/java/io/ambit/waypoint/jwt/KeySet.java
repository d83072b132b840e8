package io.ambit.waypoint.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One JWKS, parsed once into ready verifiers; immutable. A token it verified remembers it
 * ({@link ParsedJwt#verifiedBy}, Envoy keeps such a cache too), so a repeated token is not verified again;
 * a rotated JWKS is a new key set, so nothing verified by the old one carries over.
 *
 * <p>Key selection is jwt_verify_lib's: a token with a {@code kid} is tried against keys with that kid and
 * keys without one; a key's {@code alg}, when set, must equal the token's; the key type decides which
 * algorithms it can verify (an RSA or EC key never verifies an HMAC token: no algorithm confusion).
 */
final class KeySet {
    /** Most keys one JWKS may hold; real ones have a handful. */
    static final int MAX_KEYS = 64;

    static final int MIN_RSA_BITS = 2048;

    /**
     * Largest RSA modulus taken: real issuers use 2048-4096 bits, and every token of the issuer pays for
     * the key's size (a 16384-bit key costs about 16 times a 4096-bit one per verification).
     */
    static final int MAX_RSA_BITS = 8192;

    /**
     * Largest RSA public exponent taken, in bits: real keys use 65537 (17 bits). A huge exponent makes
     * each verification as slow as a private-key operation (the JDK itself caps it only above 3072-bit
     * moduli).
     */
    static final int MAX_RSA_EXPONENT_BITS = 64;

    /** One usable key. */
    record Key(String kid, String alg, JWSVerifier verifier) {}

    /** The outcome of verifying one token's signature. */
    enum Outcome {
        OK,
        /** no key has the token's kid (when it has one) and algorithm */
        NO_MATCHING_KEY,
        /** keys matched but none verified the signature */
        BAD_SIGNATURE
    }

    private final List<Key> keys;
    private final List<String> problems;

    private KeySet(List<Key> keys, List<String> problems) {
        this.keys = List.copyOf(keys);
        this.problems = List.copyOf(problems);
    }

    static final KeySet EMPTY = new KeySet(List.of(), List.of());

    private static final java.math.BigInteger THREE = java.math.BigInteger.valueOf(3);

    /**
     * Parses a JWKS document. Keys that cannot be used are skipped and named in {@link #problems()}; a
     * document that is not a JWKS at all throws.
     *
     * @throws ParseException with what was wrong (bad JSON, no {@code keys}, too many keys)
     */
    static KeySet parse(String json) throws ParseException {
        JWKSet set;
        try {
            set = JWKSet.parse(json);
        } catch (RuntimeException e) {
            // e.g. "keys": [null] or a key whose members have the wrong JSON types: the library's own
            // exception (NullPointerException, ClassCastException) says nothing a reader can act on
            throw new ParseException(
                    "not a JWKS document (expected: {\"keys\": [JWK objects]}): "
                            + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()),
                    0);
        }
        if (set.getKeys().size() > MAX_KEYS) {
            throw new ParseException(
                    "JWKS has " + set.getKeys().size() + " keys (expected: at most " + MAX_KEYS + ")", 0);
        }
        var keys = new ArrayList<Key>();
        var problems = new ArrayList<String>();
        int i = 0;
        for (JWK jwk : set.getKeys()) {
            String name = "keys[" + i++ + "]" + (jwk.getKeyID() == null ? "" : " (kid " + jwk.getKeyID() + ")");
            if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
                problems.add(name + ": use is \"" + jwk.getKeyUse().identifier() + "\" (expected: sig)");
                continue;
            }
            try {
                JWSVerifier v = verifier(jwk);
                if (v == null) {
                    problems.add(name + ": key type " + jwk.getKeyType()
                            + " is not supported (expected: RSA, EC, OKP or oct)");
                    continue;
                }
                String alg =
                        jwk.getAlgorithm() == null ? null : jwk.getAlgorithm().getName();
                if (alg != null && !v.supportedJWSAlgorithms().contains(JWSAlgorithm.parse(alg))) {
                    problems.add(name + ": alg " + alg + " does not fit a " + jwk.getKeyType() + " key");
                    continue;
                }
                keys.add(new Key(jwk.getKeyID(), alg, v));
            } catch (JOSEException | RuntimeException e) {
                problems.add(
                        name + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            }
        }
        return new KeySet(keys, problems);
    }

    private static JWSVerifier verifier(JWK jwk) throws JOSEException {
        if (jwk instanceof RSAKey rsa) {
            var pub = rsa.toRSAPublicKey();
            if (pub.getModulus().bitLength() < MIN_RSA_BITS || pub.getModulus().bitLength() > MAX_RSA_BITS) {
                throw new IllegalArgumentException(
                        "RSA key has " + pub.getModulus().bitLength() + " bits (expected: " + MIN_RSA_BITS + " to "
                                + MAX_RSA_BITS + ")");
            }
            var e = pub.getPublicExponent();
            if (e.bitLength() > MAX_RSA_EXPONENT_BITS || !e.testBit(0) || e.compareTo(THREE) < 0) {
                throw new IllegalArgumentException("RSA public exponent e has " + e.bitLength()
                        + " bits" + (e.testBit(0) ? "" : " and is even") + " (expected: an odd number from 3 to "
                        + MAX_RSA_EXPONENT_BITS + " bits, normally 65537)");
            }
            return new RSASSAVerifier(pub, Set.of());
        }
        if (jwk instanceof ECKey ec) {
            // ECDSAVerifier checks that the point is on the curve (invalid-curve attacks).
            return new ECDSAVerifier(ec.toECPublicKey(), Set.of());
        }
        if (jwk instanceof OctetSequenceKey oct) {
            // HMAC only with a symmetric key the JWKS declares as such; MACVerifier needs >= 256 bits.
            return new MACVerifier(oct.toByteArray());
        }
        if (jwk instanceof OctetKeyPair okp) {
            if (okp.isPrivate()) {
                // A JWKS is public; one that leaks a private key is broken, and its key is not trusted.
                throw new IllegalArgumentException("OKP key holds a private part (expected: public keys only)");
            }
            return Ed25519JdkVerifier.of(okp); // the JDK's Ed25519: nimbus's own verifier needs Tink
        }
        return null;
    }

    List<Key> keys() {
        return keys;
    }

    /** Keys that were skipped and why, for logs and the admin API. */
    List<String> problems() {
        return problems;
    }

    boolean isEmpty() {
        return keys.isEmpty();
    }

    /** Whether some key could verify this token (its kid and algorithm), before trying a signature. */
    boolean hasCandidate(ParsedJwt t) {
        for (Key k : keys) {
            if (matches(k, t)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the JWKS names the token's kid at all (a missing kid may mean the issuer rotated keys). */
    boolean knowsKid(String kid) {
        for (Key k : keys) {
            if (kid.equals(k.kid())) {
                return true;
            }
        }
        return false;
    }

    Outcome verify(ParsedJwt t) {
        if (t.verifiedBy == this) {
            return Outcome.OK;
        }
        boolean matched = false;
        var alg = t.header.getAlgorithm();
        for (Key k : keys) {
            if (!matches(k, t)) {
                continue;
            }
            matched = true;
            try {
                if (k.verifier().supportedJWSAlgorithms().contains(alg)
                        && k.verifier().verify(t.header, t.signingInput, t.signature)) {
                    t.verifiedBy = this;
                    return Outcome.OK;
                }
            } catch (JOSEException e) {
                // a malformed signature for this key (e.g. wrong length): try the next key
            }
        }
        return matched ? Outcome.BAD_SIGNATURE : Outcome.NO_MATCHING_KEY;
    }

    private static boolean matches(Key k, ParsedJwt t) {
        if (t.kid != null && k.kid() != null && !k.kid().equals(t.kid)) {
            return false;
        }
        if (k.alg() != null && !k.alg().equals(t.alg)) {
            return false;
        }
        return k.verifier().supportedJWSAlgorithms().contains(t.header.getAlgorithm());
    }
}
