package io.ambit.hbone.ca;

import static io.ambit.hbone.ca.CaFixtures.SLEEP;
import static io.ambit.hbone.ca.CaFixtures.assertWorkloadLeaf;
import static io.ambit.hbone.ca.CaFixtures.writeCacerts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.MutableClock;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.PeerIdentities;
import io.ambit.hbone.identity.PeerIdentities.Role;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Istio's cacerts directory as a certificate source. */
class PluggedCaTest {
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
    private static final Instant EPOCH = T0.minus(Duration.ofDays(1));

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(T0);
    private SigningCa root;
    private SigningCa intermediate;

    @BeforeEach
    void writeCa() throws Exception {
        root = SigningCa.newRoot("O=cluster.local, CN=root", EPOCH, Duration.ofDays(3650));
        intermediate = root.newIntermediate("O=cluster.local, CN=intermediate", EPOCH, Duration.ofDays(365));
        writeCacerts(dir, intermediate);
    }

    @Test
    void issuesWorkloadCertificatesSignedByTheIntermediate() throws Exception {
        WorkloadCertificate cert = PluggedCa.open(dir, clock).issue(SLEEP, Duration.ofHours(24));

        assertThat(cert.chain())
                .as("leaf, then cert-chain.pem (intermediate, root)")
                .containsExactly(cert.leaf(), intermediate.certificate(), root.certificate());
        assertThat(cert.roots()).containsExactly(root.certificate());
        assertThat(cert.leaf().getIssuerX500Principal())
                .isEqualTo(intermediate.certificate().getSubjectX500Principal());
        cert.leaf().verify(intermediate.certificate().getPublicKey());
        Chains.verify(cert.chain(), cert.roots(), T0);
        assertWorkloadLeaf(cert.leaf(), SLEEP);
        assertThat(cert.notBefore()).isEqualTo(T0.minus(Duration.ofMinutes(1)));
        assertThat(cert.notAfter()).isEqualTo(T0.plus(Duration.ofHours(24)));
        assertThat(cert.leaf().getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(PeerIdentities.of(cert.leaf(), Role.CLIENT)).isEqualTo(SLEEP);
        assertThat(PeerIdentities.of(cert.leaf(), Role.SERVER)).isEqualTo(SLEEP);
    }

    @ParameterizedTest
    @MethodSource
    void readsTheCaKeyInEveryCommonPemForm(String algorithm, boolean pkcs8, String header, String signature)
            throws Exception {
        var generator = KeyPairGenerator.getInstance(algorithm.startsWith("EC") ? "EC" : algorithm);
        switch (algorithm) {
            case "RSA" -> generator.initialize(2048);
            case "EC" -> generator.initialize(new ECGenParameterSpec("secp256r1"));
            case "EC-384" -> generator.initialize(new ECGenParameterSpec("secp384r1"));
            default -> {}
        }
        KeyPair keys = generator.generateKeyPair();
        SigningCa ca = root.newIntermediate("O=cluster.local, CN=" + algorithm, EPOCH, Duration.ofDays(30), keys);
        writeCacerts(dir, ca);
        String pem = pkcs8 ? Pem.encodePrivateKey(keys.getPrivate()) : traditional(keys.getPrivate());
        assertThat(pem).startsWith(header);
        Files.writeString(dir.resolve(PluggedCa.CA_KEY), pem);

        WorkloadCertificate cert = PluggedCa.open(dir, clock).issue(SLEEP, Duration.ofHours(1));

        assertThat(cert.leaf().getSigAlgName()).isEqualTo(signature);
        cert.leaf().verify(keys.getPublic());
    }

    static Stream<Arguments> readsTheCaKeyInEveryCommonPemForm() {
        return Stream.of(
                argumentSet("an EC key as PKCS#8", "EC", true, "-----BEGIN PRIVATE KEY-----", "SHA256withECDSA"),
                argumentSet("an EC key as SEC1", "EC", false, "-----BEGIN EC PRIVATE KEY-----", "SHA256withECDSA"),
                argumentSet(
                        "a P-384 key signs with SHA-384",
                        "EC-384",
                        true,
                        "-----BEGIN PRIVATE KEY-----",
                        "SHA384withECDSA"),
                argumentSet("an RSA key as PKCS#8", "RSA", true, "-----BEGIN PRIVATE KEY-----", "SHA256withRSA"),
                argumentSet(
                        "an RSA key as PKCS#1 (istiod's own)",
                        "RSA",
                        false,
                        "-----BEGIN RSA PRIVATE KEY-----",
                        "SHA256withRSA"),
                argumentSet("an Ed25519 key as PKCS#8", "Ed25519", true, "-----BEGIN PRIVATE KEY-----", "Ed25519"));
    }

    @FunctionalInterface
    interface Damage {
        void apply(Path dir, PluggedCaTest test) throws Exception;
    }

    @ParameterizedTest
    @MethodSource
    void refusesABadDirectoryNamingTheFile(Damage damage, String expected) throws Exception {
        damage.apply(dir, this);
        assertThatThrownBy(() -> PluggedCa.open(dir, clock))
                .isInstanceOf(CertificateSourceException.class)
                .hasMessageContaining(expected);
    }

    static Stream<Arguments> refusesABadDirectoryNamingTheFile() {
        return Stream.of(
                argumentSet(
                        "a missing ca-key.pem",
                        (Damage) (d, t) -> Files.delete(d.resolve("ca-key.pem")),
                        "has no ca-key.pem (expected the private key of ca-cert.pem; the directory should be an Istio"
                                + " cacerts directory with root-cert.pem, cert-chain.pem, ca-cert.pem, ca-key.pem and"
                                + " optionally ca-crl.pem)"),
                argumentSet(
                        "a missing root-cert.pem",
                        (Damage) (d, t) -> Files.delete(d.resolve("root-cert.pem")),
                        "has no root-cert.pem"),
                argumentSet(
                        "a missing cert-chain.pem",
                        (Damage) (d, t) -> Files.delete(d.resolve("cert-chain.pem")),
                        "has no cert-chain.pem (expected ca-cert.pem followed by its issuers up to the root"),
                argumentSet(
                        "the key of another CA",
                        (Damage) (d, t) -> Files.writeString(
                                d.resolve("ca-key.pem"),
                                Pem.encodePrivateKey(SigningCa.newKeyPair().getPrivate())),
                        "ca-key.pem does not match the public key of ca-cert.pem"),
                argumentSet(
                        "an encrypted key",
                        (Damage) (d, t) -> Files.writeString(d.resolve("ca-key.pem"), encrypted(t.intermediate.key())),
                        "ca-key.pem: the private key is encrypted"),
                argumentSet(
                        "a certificate where the key belongs",
                        (Damage) (d, t) -> Files.copy(
                                d.resolve("ca-cert.pem"),
                                d.resolve("ca-key.pem"),
                                java.nio.file.StandardCopyOption.REPLACE_EXISTING),
                        "ca-key.pem: found a CERTIFICATE block (expected a private key: the private key of ca-cert.pem)"),
                argumentSet(
                        "two certificates in ca-cert.pem",
                        (Damage) (d, t) -> Files.copy(
                                d.resolve("cert-chain.pem"),
                                d.resolve("ca-cert.pem"),
                                java.nio.file.StandardCopyOption.REPLACE_EXISTING),
                        "ca-cert.pem: found 2 certificates (expected exactly one, the signing CA"),
                argumentSet(
                        "a workload certificate as the signing CA",
                        (Damage) (d, t) -> {
                            WorkloadCertificate leaf = t.intermediate.issue(SLEEP, T0, Duration.ofHours(1));
                            writeCacertsFiles(d, leaf.leaf(), leaf.key());
                        },
                        "cannot sign certificates (expected basicConstraints cA=true"),
                argumentSet(
                        "a cert-chain.pem that does not start with ca-cert.pem",
                        (Damage) (d, t) -> Files.copy(
                                d.resolve("root-cert.pem"),
                                d.resolve("cert-chain.pem"),
                                java.nio.file.StandardCopyOption.REPLACE_EXISTING),
                        "cert-chain.pem starts with \"CN=root,O=cluster.local\" (expected ca-cert.pem"),
                argumentSet(
                        "a root that did not issue the intermediate",
                        (Damage) (d, t) -> Files.writeString(
                                d.resolve("root-cert.pem"),
                                Pem.encodeCertificates(List.of(
                                        SigningCa.newRoot("O=cluster.local, CN=root", EPOCH, Duration.ofDays(10))
                                                .certificate()))),
                        "does not chain to root-cert.pem through cert-chain.pem"),
                argumentSet(
                        "a workload certificate as the root",
                        (Damage) (d, t) -> Files.writeString(
                                d.resolve("root-cert.pem"),
                                Pem.encodeCertificates(List.of(t.intermediate
                                        .issue(SLEEP, T0, Duration.ofHours(1))
                                        .leaf()))),
                        "root-cert.pem: certificate 1 \"\" is not a CA certificate"),
                argumentSet(
                        "a root-cert.pem without PEM",
                        (Damage) (d, t) -> Files.writeString(d.resolve("root-cert.pem"), "not a certificate\n"),
                        "root-cert.pem: no CERTIFICATE block (expected the root certificate(s) workloads trust in PEM)"),
                argumentSet(
                        "a root-cert.pem with broken base64",
                        (Damage) (d, t) -> Files.writeString(
                                d.resolve("root-cert.pem"),
                                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
                        "root-cert.pem: not valid PEM"),
                argumentSet(
                        "a CRL from another CA",
                        (Damage) (d, t) -> Files.writeString(
                                d.resolve("ca-crl.pem"),
                                Pem.encodeCrl(SigningCa.newRoot(
                                                "O=cluster.local, CN=intermediate", EPOCH, Duration.ofDays(10))
                                        .newCrl(T0, Duration.ofDays(1), List.of(BigInteger.TEN)))),
                        "ca-crl.pem: the CRL from \"CN=intermediate,O=cluster.local\" is not signed by ca-cert.pem,"
                                + " cert-chain.pem or root-cert.pem"),
                argumentSet(
                        "a certificate where the CRL belongs",
                        (Damage) (d, t) -> Files.copy(d.resolve("ca-cert.pem"), d.resolve("ca-crl.pem")),
                        "ca-crl.pem: found a CERTIFICATE block (expected only X509 CRL blocks"),
                argumentSet(
                        "no directory at all",
                        (Damage) (d, t) -> {
                            try (var files = Files.list(d)) {
                                for (Path f : files.toList()) {
                                    Files.delete(f);
                                }
                            }
                            Files.delete(d);
                        },
                        "no such directory (expected an Istio cacerts directory"));
    }

    @ParameterizedTest
    @MethodSource
    void refusesAnIntermediateOutsideItsValidity(Duration offset, String expected) {
        clock.set(T0.plus(offset));
        assertThatThrownBy(() -> PluggedCa.open(dir, clock)).hasMessageContaining(expected);
    }

    static Stream<Arguments> refusesAnIntermediateOutsideItsValidity() {
        return Stream.of(
                argumentSet(
                        "after it expired",
                        Duration.ofDays(400),
                        "ca-cert.pem: \"CN=intermediate,O=cluster.local\" expired at"),
                argumentSet("before it is valid", Duration.ofDays(-2), "is not valid before"));
    }

    @Test
    void aLifetimeEndsWithTheIntermediate() throws Exception {
        SigningCa shortLived = root.newIntermediate("O=cluster.local, CN=short", T0, Duration.ofHours(1));
        writeCacerts(dir, shortLived);

        WorkloadCertificate cert = PluggedCa.open(dir, clock).issue(SLEEP, Duration.ofHours(24));

        assertThat(cert.notAfter())
                .isEqualTo(shortLived.certificate().getNotAfter().toInstant());
    }

    @Test
    void picksUpANewCaOnDiskAndKeepsTheLastGoodOneWhenTheNewOneIsBroken() throws Exception {
        PluggedCa ca = PluggedCa.open(dir, clock);
        SigningCa rotated = SigningCa.newRoot("O=cluster.local, CN=root 2", EPOCH, Duration.ofDays(3650))
                .newIntermediate("O=cluster.local, CN=intermediate 2", EPOCH, Duration.ofDays(365));
        writeCacerts(dir, rotated);

        assertThat(ca.issue(SLEEP, Duration.ofHours(1)).chain().get(1)).isEqualTo(rotated.certificate());

        Files.writeString(
                dir.resolve("ca-key.pem"),
                Pem.encodePrivateKey(SigningCa.newKeyPair().getPrivate()));
        WorkloadCertificate cert = ca.issue(SLEEP, Duration.ofHours(1));
        assertThat(cert.chain().get(1)).isEqualTo(rotated.certificate());
        cert.leaf().verify(rotated.certificate().getPublicKey());
    }

    @Test
    void publishesTheCrlAndKeepsTheLastGoodOne() throws Exception {
        PluggedCa ca = PluggedCa.open(dir, clock);
        assertThat(ca.crl()).isEmpty();

        var crl = intermediate.newCrl(T0, Duration.ofDays(7), List.of(BigInteger.valueOf(42)));
        Files.writeString(dir.resolve("ca-crl.pem"), Pem.encodeCrl(crl));
        assertThat(ca.crl()).contains(crl);

        Files.writeString(dir.resolve("ca-crl.pem"), "garbage");
        assertThat(ca.crl()).as("a broken CRL does not replace a good one").contains(crl);

        Files.delete(dir.resolve("ca-crl.pem"));
        assertThat(ca.crl()).as("a removed CRL does not un-revoke").contains(crl);

        var fromRoot = root.newCrl(T0.plusSeconds(1), Duration.ofDays(7), List.of(BigInteger.ONE));
        Files.writeString(dir.resolve("ca-crl.pem"), Pem.encodeCrl(fromRoot));
        assertThat(ca.crl()).as("the root may publish the CRL too").contains(fromRoot);
    }

    private static void writeCacertsFiles(Path d, java.security.cert.X509Certificate cert, PrivateKey key)
            throws Exception {
        Files.writeString(d.resolve("ca-cert.pem"), Pem.encodeCertificates(List.of(cert)));
        Files.writeString(d.resolve("ca-key.pem"), Pem.encodePrivateKey(key));
    }

    /** PKCS#1 for RSA; SEC1 with the curve named inside for EC, as openssl writes it. */
    private static String traditional(PrivateKey key) throws Exception {
        var text = new StringWriter();
        try (var writer = new JcaPEMWriter(text)) {
            if (key.getAlgorithm().equals("EC")) {
                var info = PrivateKeyInfo.getInstance(key.getEncoded());
                var inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
                var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(
                        256,
                        inner.getKey(),
                        inner.getPublicKey(),
                        info.getPrivateKeyAlgorithm().getParameters());
                writer.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
            } else {
                writer.writeObject(key);
            }
        }
        return text.toString();
    }

    private static String encrypted(PrivateKey key) throws Exception {
        var encryptor = new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.PBE_SHA1_3DES)
                .setProvider(new BouncyCastleProvider())
                .setPassword("secret".toCharArray())
                .build();
        var text = new StringWriter();
        try (var writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaPKCS8Generator(key, encryptor));
        }
        return text.toString();
    }
}
