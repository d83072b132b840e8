package io.ambit.hbone.ca;

import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.EdECKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A CA certificate with its private key, able to sign workload certificates (and, for tools and tests,
 * intermediates and CRLs). Immutable and thread-safe. Keys are ECDSA P-256 from the JDK's SunEC; a plugged
 * CA key may also be RSA, another EC curve or Ed25519, and then signs with the matching algorithm.
 *
 * <p>Workload certificates follow what istiod issues and ztunnel expects (ztunnel-reference §3.2): a fresh
 * P-256 key, an empty subject, the SPIFFE id as the only SAN (a URI, marked critical because the subject
 * is empty), {@code basicConstraints cA=false}, keyUsage {@code digitalSignature} (critical; no
 * keyEncipherment, which EC keys cannot do), extendedKeyUsage {@code serverAuth, clientAuth}, subject and
 * authority key identifiers, and a random positive 128-bit serial. {@code notBefore} is one minute in the
 * past (clock skew between nodes), and neither end lies outside the CA's own validity.
 */
public final class SigningCa {
    /** How far {@code notBefore} is moved back, so that a peer whose clock is a little behind accepts it. */
    static final Duration BACKDATE = Duration.ofMinutes(1);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate certificate;
    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final List<X509Certificate> roots;

    /**
     * @param certificate the CA certificate that signs
     * @param key its private key
     * @param chain what is presented after each leaf, in order (Istio's {@code cert-chain.pem}); empty when
     *     {@code certificate} is a root that signs leaves directly
     * @param roots the trust roots handed out with each leaf
     */
    public SigningCa(
            X509Certificate certificate, PrivateKey key, List<X509Certificate> chain, List<X509Certificate> roots) {
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("no trust roots");
        }
        this.certificate = certificate;
        this.key = key;
        this.chain = List.copyOf(chain);
        this.roots = List.copyOf(roots);
    }

    /** A new self-signed root with a new P-256 key; it signs leaves directly (an empty chain). */
    public static SigningCa newRoot(String subject, Instant now, Duration validity) {
        KeyPair keys = newKeyPair();
        X500Name name = new X500Name(subject);
        Instant start = now.minus(BACKDATE).truncatedTo(ChronoUnit.SECONDS);
        var builder = new JcaX509v3CertificateBuilder(
                name, serial(), Date.from(start), Date.from(end(now, validity)), name, keys.getPublic());
        try {
            var ext = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate root = sign(builder, keys.getPrivate());
            return new SigningCa(root, keys.getPrivate(), List.of(), List.of(root));
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot create a root certificate: " + e, e);
        }
    }

    /**
     * A new intermediate CA (pathLen 0) signed by this CA, with a new P-256 key. Its chain is the
     * intermediate followed by this CA's chain, or by this root — the layout of Istio's {@code
     * cert-chain.pem} ({@code ca-cert.pem} then {@code root-cert.pem}).
     */
    public SigningCa newIntermediate(String subject, Instant now, Duration validity) throws CertificateSourceException {
        return newIntermediate(subject, now, validity, newKeyPair());
    }

    /** As {@link #newIntermediate(String, Instant, Duration)}, for a given key pair (any algorithm). */
    public SigningCa newIntermediate(String subject, Instant now, Duration validity, KeyPair keys)
            throws CertificateSourceException {
        Instant start = max(now.minus(BACKDATE), certificate.getNotBefore().toInstant());
        Instant end = min(end(now, validity), certificate.getNotAfter().toInstant());
        var builder = new JcaX509v3CertificateBuilder(
                certificate, serial(), Date.from(start), Date.from(end), new X500Name(subject), keys.getPublic());
        try {
            var ext = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId(ext));
            X509Certificate intermediate = sign(builder, key);
            List<X509Certificate> newChain = new ArrayList<>();
            newChain.add(intermediate);
            newChain.addAll(chain.isEmpty() ? List.of(certificate) : chain);
            return new SigningCa(intermediate, keys.getPrivate(), newChain, roots);
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new CertificateSourceException("cannot sign an intermediate certificate: " + e, e);
        }
    }

    /**
     * Issues a workload certificate for {@code identity}, valid from now (less {@link #BACKDATE}) for
     * {@code ttl}, shortened to the CA's own {@code notAfter}.
     *
     * @throws CertificateSourceException when the CA certificate has expired or the key cannot sign
     */
    public WorkloadCertificate issue(SpiffeId identity, Instant now, Duration ttl) throws CertificateSourceException {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new CertificateSourceException(
                    "certificate lifetime " + ttl + " for " + identity + " (expected > 0)");
        }
        Instant caEnd = certificate.getNotAfter().toInstant();
        if (!now.isBefore(caEnd)) {
            throw new CertificateSourceException("the signing CA certificate \""
                    + certificate.getSubjectX500Principal().getName() + "\" expired at " + caEnd
                    + "; cannot issue for " + identity);
        }
        KeyPair keys = newKeyPair();
        Instant start = max(now.minus(BACKDATE), certificate.getNotBefore().toInstant());
        Instant end = min(end(now, ttl), caEnd);
        var builder = new JcaX509v3CertificateBuilder(
                certificate, serial(), Date.from(start), Date.from(end), new X500Name(new RDN[0]), keys.getPublic());
        try {
            var ext = new JcaX509ExtensionUtils();
            builder.addExtension(
                            Extension.subjectAlternativeName,
                            true,
                            new GeneralNames(
                                    new GeneralName(GeneralName.uniformResourceIdentifier, identity.toString())))
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                    }))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId(ext));
            X509Certificate leaf = sign(builder, key);
            List<X509Certificate> presented = new ArrayList<>();
            presented.add(leaf);
            presented.addAll(chain);
            return new WorkloadCertificate(identity, keys.getPrivate(), presented, roots);
        } catch (GeneralSecurityException | java.io.IOException | RuntimeException e) {
            throw new CertificateSourceException(
                    "cannot sign a certificate for " + identity + " with the CA key (" + key.getAlgorithm() + "): " + e,
                    e);
        }
    }

    /**
     * A CRL signed by this CA revoking {@code serials} (reason unspecified), valid from {@code now} for
     * {@code validity}. For {@code ambit ca} and tests; the CRL number is {@code now} in milliseconds.
     */
    public X509CRL newCrl(Instant now, Duration validity, Collection<BigInteger> serials)
            throws CertificateSourceException {
        Instant thisUpdate = now.truncatedTo(ChronoUnit.SECONDS);
        var builder = new X509v2CRLBuilder(
                X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()), Date.from(thisUpdate));
        builder.setNextUpdate(Date.from(end(now, validity)));
        for (BigInteger serial : serials) {
            builder.addCRLEntry(serial, Date.from(thisUpdate), CRLReason.unspecified);
        }
        try {
            var ext = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId(ext))
                    .addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(now.toEpochMilli())));
            ContentSigner signer = new JcaContentSignerBuilder(signatureAlgorithm(key)).build(key);
            return new JcaX509CRLConverter().getCRL(builder.build(signer));
        } catch (Exception e) { // OperatorCreationException, CRLException, CertIOException
            throw new CertificateSourceException("cannot sign a CRL: " + e, e);
        }
    }

    /** The CA certificate that signs. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The CA's private key. */
    public PrivateKey key() {
        return key;
    }

    /** What is presented after each leaf (Istio's {@code cert-chain.pem}); empty for a root. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The trust roots handed out with each leaf (Istio's {@code root-cert.pem}). */
    public List<X509Certificate> roots() {
        return roots;
    }

    /** A new ECDSA P-256 key pair. */
    public static KeyPair newKeyPair() {
        try {
            var generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no EC P-256 key generator", e);
        }
    }

    /** Whether {@code key} is the private half of {@code publicKey}: sign a challenge and verify it. */
    static boolean keyMatches(PrivateKey key, PublicKey publicKey) {
        try {
            byte[] challenge = new byte[32];
            RANDOM.nextBytes(challenge);
            String algorithm = signatureAlgorithm(key);
            var signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            var verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The signature algorithm for a CA key: SHA-256/384/512 with ECDSA by curve size, SHA-256 with RSA, EdDSA. */
    static String signatureAlgorithm(PrivateKey key) {
        return switch (key) {
            case ECKey ec -> {
                int bits = ec.getParams().getOrder().bitLength();
                yield bits > 384 ? "SHA512withECDSA" : bits > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
            }
            case EdECKey ed -> ed.getParams().getName();
            default -> {
                if (key.getAlgorithm().equals("RSA")) {
                    yield "SHA256withRSA";
                }
                throw new IllegalArgumentException(
                        "unsupported CA key algorithm " + key.getAlgorithm() + " (expected EC, RSA or Ed25519)");
            }
        };
    }

    /** The authority key id of what this CA signs: its own subject key id when it has one. */
    private AuthorityKeyIdentifier authorityKeyId(JcaX509ExtensionUtils ext) {
        byte[] ski = certificate.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ski != null) {
            byte[] id = ASN1OctetString.getInstance(
                            ASN1OctetString.getInstance(ski).getOctets())
                    .getOctets();
            return new AuthorityKeyIdentifier(id);
        }
        return ext.createAuthorityKeyIdentifier(certificate.getPublicKey());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder(signatureAlgorithm(key)).build(key);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /** A random positive serial of 128 bits (RFC 5280: at most 20 octets; CA/B: at least 64 random bits). */
    private static BigInteger serial() {
        BigInteger serial;
        do {
            serial = new BigInteger(128, RANDOM);
        } while (serial.signum() == 0);
        return serial;
    }

    private static Instant end(Instant now, Duration validity) {
        return now.plus(validity).truncatedTo(ChronoUnit.SECONDS);
    }

    private static Instant max(Instant a, Instant b) {
        Instant m = a.isAfter(b) ? a : b;
        return m.truncatedTo(ChronoUnit.SECONDS);
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
