package io.ambit.hbone.identity;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds leaf certificates with whatever SANs and key usages a test (or an attacker) wants, including
 * encodings a real CA would refuse (raw IA5 bytes with NUL), and parses them with the JDK as a TLS stack
 * would. Not a CA: signed by a throwaway key, because only the leaf's content is under test.
 */
final class TestCertificate {
    private static final KeyPair KEYS = keys();

    private String subject = "CN=peer";
    private final List<GeneralName> sans = new ArrayList<>();
    private boolean sanCritical;
    private boolean noSan;
    private KeyPurposeId[] eku = {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth};
    private Integer keyUsage = KeyUsage.digitalSignature;
    private boolean ca;

    static TestCertificate leaf() {
        return new TestCertificate();
    }

    /** A URI SAN with exactly these characters as its IA5 bytes (no validation). */
    TestCertificate uri(String uri) {
        sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, new DERIA5String(uri, false)));
        return this;
    }

    TestCertificate dns(String dns) {
        sans.add(new GeneralName(GeneralName.dNSName, new DERIA5String(dns, false)));
        return this;
    }

    TestCertificate email(String email) {
        sans.add(new GeneralName(GeneralName.rfc822Name, new DERIA5String(email, false)));
        return this;
    }

    /** An otherName SAN holding {@code text} as a UTF8String under a made-up OID. */
    TestCertificate otherName(String text) {
        sans.add(new GeneralName(GeneralName.otherName, new DERSequence(new ASN1Encodable[] {
            new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"), new DERTaggedObject(true, 0, new DERUTF8String(text))
        })));
        return this;
    }

    /** An empty subject, with the SAN extension critical as RFC 5280 requires then. */
    TestCertificate emptySubject() {
        subject = null;
        sanCritical = true;
        return this;
    }

    TestCertificate subject(String dn) {
        subject = dn;
        return this;
    }

    TestCertificate noSubjectAltName() {
        noSan = true;
        return this;
    }

    TestCertificate eku(KeyPurposeId... purposes) {
        eku = purposes;
        return this;
    }

    TestCertificate noEku() {
        eku = null;
        return this;
    }

    TestCertificate keyUsage(Integer bits) {
        keyUsage = bits;
        return this;
    }

    TestCertificate ca() {
        ca = true;
        return this;
    }

    X509Certificate build() {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(buildEncoded()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The DER encoding, without a JDK parse (which may refuse it). */
    byte[] buildEncoded() {
        try {
            Instant now = Instant.now();
            X500Name name = subject == null ? new X500Name(new RDN[0]) : new X500Name(subject);
            var builder = new JcaX509v3CertificateBuilder(
                    new X500Name("CN=test issuer"),
                    BigInteger.valueOf(4242),
                    Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofHours(1))),
                    name,
                    KEYS.getPublic());
            if (!noSan && !sans.isEmpty()) {
                builder.addExtension(
                        Extension.subjectAlternativeName,
                        sanCritical,
                        new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            if (keyUsage != null) {
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
            }
            if (eku != null) {
                builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
            }
            return builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(KEYS.getPrivate()))
                    .getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair keys() {
        try {
            var generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
