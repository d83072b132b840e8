package io.ambit.waypoint.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Set;

/**
 * Verifies {@code EdDSA} JWS signatures of an Ed25519 (OKP) key with the JDK's own Ed25519 (RFC 8032, in
 * the JDK since 15). Nimbus's {@code Ed25519Verifier} needs Google Tink, which the waypoint does not ship;
 * the JDK's implementation is constant-time and refuses non-canonical points and signatures itself.
 */
final class Ed25519JdkVerifier implements JWSVerifier {
    /** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 raw key bytes follow. */
    private static final byte[] SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

    private static final int KEY_BYTES = 32;
    private static final int SIGNATURE_BYTES = 64;

    private final PublicKey key;
    private final JCAContext jca = new JCAContext();

    private Ed25519JdkVerifier(PublicKey key) {
        this.key = key;
    }

    /**
     * A verifier for a public OKP key.
     *
     * @throws IllegalArgumentException when the key is not a 32-byte Ed25519 public key (Ed448, X25519, a
     *     wrong length), naming what it is
     */
    static Ed25519JdkVerifier of(OctetKeyPair okp) {
        if (!Curve.Ed25519.equals(okp.getCurve())) {
            throw new IllegalArgumentException(
                    "OKP key on curve " + okp.getCurve() + " is not supported (expected: Ed25519)");
        }
        byte[] x = okp.getDecodedX();
        if (x.length != KEY_BYTES) {
            throw new IllegalArgumentException(
                    "Ed25519 key x has " + x.length + " bytes (expected: " + KEY_BYTES + ")");
        }
        byte[] der = new byte[SPKI_PREFIX.length + KEY_BYTES];
        System.arraycopy(SPKI_PREFIX, 0, der, 0, SPKI_PREFIX.length);
        System.arraycopy(x, 0, der, SPKI_PREFIX.length, KEY_BYTES);
        try {
            return new Ed25519JdkVerifier(
                    KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("Ed25519 key x is not a valid public key: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
        if (!JWSAlgorithm.EdDSA.equals(header.getAlgorithm())) {
            return false;
        }
        byte[] sig = signature.decode();
        if (sig.length != SIGNATURE_BYTES) {
            return false;
        }
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            verifier.update(signingInput);
            return verifier.verify(sig);
        } catch (GeneralSecurityException e) {
            throw new JOSEException("Ed25519 verification failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return Set.of(JWSAlgorithm.EdDSA);
    }

    @Override
    public JCAContext getJCAContext() {
        return jca;
    }
}
