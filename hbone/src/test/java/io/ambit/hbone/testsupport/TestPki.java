package io.ambit.hbone.testsupport;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away CA minting Istio-shaped workload certificates for tests: EC P-256 keys, an empty subject,
 * a critical SAN with the SPIFFE URI, client and server EKU, signed by an EC P-256 root ({@code O=<td>}).
 * Knobs for the refusal cases: validity, EKU, any URI and DNS SANs (raw characters, NUL included), and a
 * non-critical SAN extension.
 */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyPair caKeys;
    private final X509Certificate root;
    private final X500Name rootName;

    private TestPki(KeyPair caKeys, X509Certificate root, X500Name rootName) {
        this.caKeys = caKeys;
        this.root = root;
        this.rootName = rootName;
    }

    /** A new root CA named {@code O=<organization>}. */
    public static TestPki create(String organization) {
        try {
            KeyPair keys = newKeys();
            X500Name name = new X500Name("O=" + organization);
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    name,
                    BigInteger.valueOf(SERIAL.incrementAndGet()),
                    Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(365))),
                    name,
                    keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(
                    Extension.keyUsage,
                    true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new TestPki(keys, sign(b, keys.getPrivate()), name);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public X509Certificate root() {
        return root;
    }

    /** A one-day workload certificate for {@code identity}, both EKUs. */
    public WorkloadCertificate issue(SpiffeId identity) {
        return issue(Leaf.of(identity));
    }

    /**
     * What to put in a leaf; start from {@link #of(SpiffeId)}.
     *
     * @param extendedKeyUsage the EKU purposes, or {@code null} for no EKU extension
     * @param sanCritical whether the SAN extension is critical (as Istio marks it, with an empty subject); a
     *     hostile SAN the JDK cannot parse must be non-critical, with a subject, for the certificate to be
     *     read at all
     */
    public record Leaf(
            SpiffeId identity,
            List<String> uriSans,
            List<String> dnsSans,
            Instant notBefore,
            Instant notAfter,
            List<KeyPurposeId> extendedKeyUsage,
            boolean sanCritical) {
        public static Leaf of(SpiffeId identity) {
            Instant now = Instant.now();
            return new Leaf(
                    identity,
                    List.of(identity.toString()),
                    List.of(),
                    now.minus(Duration.ofMinutes(5)),
                    now.plus(Duration.ofDays(1)),
                    List.of(KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth),
                    true);
        }

        public Leaf validity(Instant from, Instant to) {
            return new Leaf(identity, uriSans, dnsSans, from, to, extendedKeyUsage, sanCritical);
        }

        public Leaf sans(List<String> uris, List<String> dns) {
            return new Leaf(identity, uris, dns, notBefore, notAfter, extendedKeyUsage, sanCritical);
        }

        /** The SANs in a non-critical extension, so that the JDK reads a certificate whose SAN it cannot parse. */
        public Leaf sanNotCritical() {
            return new Leaf(identity, uriSans, dnsSans, notBefore, notAfter, extendedKeyUsage, false);
        }

        /** clientAuth and/or serverAuth. */
        public Leaf usage(boolean client, boolean server) {
            List<KeyPurposeId> purposes = new ArrayList<>();
            if (server) {
                purposes.add(KeyPurposeId.id_kp_serverAuth);
            }
            if (client) {
                purposes.add(KeyPurposeId.id_kp_clientAuth);
            }
            return extendedKeyUsage(purposes);
        }

        /** Exactly these purposes; {@code null} for no EKU extension at all. */
        public Leaf extendedKeyUsage(List<KeyPurposeId> purposes) {
            return new Leaf(identity, uriSans, dnsSans, notBefore, notAfter, purposes, sanCritical);
        }
    }

    public WorkloadCertificate issue(Leaf leaf) {
        try {
            KeyPair keys = newKeys();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    rootName,
                    BigInteger.valueOf(SERIAL.incrementAndGet()),
                    Date.from(leaf.notBefore()),
                    Date.from(leaf.notAfter()),
                    // RFC 5280 4.1.2.6: an empty subject needs a critical SAN; with a non-critical one, a name.
                    leaf.sanCritical() ? new X500Name(new RDN[0]) : new X500Name("CN=workload"),
                    keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(
                    Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            if (leaf.extendedKeyUsage() != null) {
                b.addExtension(
                        Extension.extendedKeyUsage,
                        false,
                        new ExtendedKeyUsage(leaf.extendedKeyUsage().toArray(KeyPurposeId[]::new)));
            }
            List<GeneralName> names = new ArrayList<>();
            leaf.uriSans().forEach(u -> names.add(new GeneralName(GeneralName.uniformResourceIdentifier, u)));
            leaf.dnsSans().forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
            // An empty subject makes the SAN extension critical (RFC 5280 4.2.1.6), as Istio does.
            b.addExtension(
                    Extension.subjectAlternativeName,
                    leaf.sanCritical(),
                    new GeneralNames(names.toArray(GeneralName[]::new)));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(root));
            X509Certificate cert = sign(b, caKeys.getPrivate());
            return new WorkloadCertificate(leaf.identity(), keys.getPrivate(), List.of(cert), List.of(root));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code key.pem} (PKCS#8), {@code cert.pem} (chain) and {@code ca.pem} (roots) into {@code dir}. */
    public static PemFiles writePem(WorkloadCertificate cert, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path key = dir.resolve("key.pem");
        Path chain = dir.resolve("cert.pem");
        Path ca = dir.resolve("ca.pem");
        Files.writeString(key, pem(new JcaPKCS8Generator(cert.key(), null)));
        Files.writeString(chain, pemAll(cert.chain()));
        Files.writeString(ca, pemAll(cert.roots()));
        return new PemFiles(key, chain, ca);
    }

    /** Paths of a certificate written as PEM. */
    public record PemFiles(Path key, Path chain, Path ca) {}

    private static String pemAll(List<X509Certificate> certs) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : certs) {
            sb.append(pem(c));
        }
        return sb.toString();
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }

    private static KeyPair newKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
            return new JcaX509CertificateConverter().getCertificate(b.build(signer));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }
}
