package io.ambit.hbone.identity;

import static io.ambit.hbone.identity.TestCertificate.leaf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.hbone.identity.PeerIdentities.Role;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** security-cases.md rows 26–28: SAN type confusion, NUL truncation, EKU, literal matching. */
class PeerIdentitiesTest {
    private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";

    @ParameterizedTest
    @MethodSource
    void accepted(TestCertificate cert, String identity) throws Exception {
        assertThat(PeerIdentities.of(cert.build(), Role.CLIENT)).isEqualTo(SpiffeId.parse(identity));
    }

    static Stream<Arguments> accepted() {
        return Stream.of(
                argumentSet(
                        "one SPIFFE URI SAN with an empty subject is the identity",
                        leaf().emptySubject().uri(SLEEP),
                        SLEEP),
                argumentSet("one SPIFFE URI SAN next to a subject is the identity", leaf().uri(SLEEP), SLEEP),
                argumentSet(
                        "a DNS SAN spelled like another SPIFFE id is ignored next to the URI SAN",
                        leaf().dns("spiffe://cluster.local/ns/kube-system/sa/admin")
                                .uri(SLEEP),
                        SLEEP),
                argumentSet(
                        "a URI SAN of another scheme is ignored next to the SPIFFE one",
                        leaf().uri("https://example.com/ns/kube-system/sa/admin")
                                .uri(SLEEP),
                        SLEEP),
                argumentSet(
                        "an otherName holding a SPIFFE id is ignored next to the URI SAN",
                        leaf().otherName("spiffe://cluster.local/ns/kube-system/sa/admin")
                                .uri(SLEEP),
                        SLEEP),
                argumentSet(
                        "a subject CN spelled like a SPIFFE id is ignored next to the URI SAN",
                        leaf().subject("CN=spiffe://cluster.local/ns/kube-system/sa/admin")
                                .uri(SLEEP),
                        SLEEP),
                argumentSet(
                        "a certificate without keyUsage may still authenticate",
                        leaf().keyUsage(null).uri(SLEEP),
                        SLEEP));
    }

    @ParameterizedTest
    @MethodSource
    void rejected(TestCertificate cert, String expected) {
        X509Certificate built = cert.build();
        assertThatThrownBy(() -> PeerIdentities.of(built, Role.CLIENT))
                .isInstanceOf(PeerIdentityException.class)
                .isInstanceOf(CertificateException.class)
                .hasMessageContaining(expected);
    }

    static Stream<Arguments> rejected() {
        return Stream.of(
                argumentSet(
                        "a DNS SAN spelled like a SPIFFE id is not an identity (CVE-2022-21656)",
                        leaf().dns(SLEEP),
                        "its DNS SAN \"" + SLEEP + "\" does not count: identities are read from URI SANs only"),
                argumentSet(
                        "an email SAN spelled like a SPIFFE id is not an identity",
                        leaf().email(SLEEP),
                        "has no spiffe:// URI SAN"),
                argumentSet(
                        "an otherName holding a SPIFFE id is not an identity",
                        leaf().otherName(SLEEP),
                        "has no spiffe:// URI SAN"),
                argumentSet(
                        "a SPIFFE id in the subject CN is not an identity",
                        leaf().subject("CN=" + SLEEP).noSubjectAltName(),
                        "has no subjectAltName extension"),
                argumentSet(
                        "a URI SAN of another scheme alone is not an identity",
                        leaf().uri("https://cluster.local/ns/default/sa/sleep"),
                        "has no spiffe:// URI SAN"),
                argumentSet(
                        "two SPIFFE URI SANs are ambiguous",
                        leaf().uri(SLEEP).uri("spiffe://cluster.local/ns/kube-system/sa/admin"),
                        "has 2 SPIFFE URI SANs"),
                argumentSet(
                        "the same SPIFFE URI SAN twice is still two",
                        leaf().uri(SLEEP).uri(SLEEP),
                        "has 2 SPIFFE URI SANs"),
                argumentSet(
                        "a second SPIFFE URI SAN hidden behind an upper-case scheme counts",
                        leaf().uri(SLEEP).uri("SPIFFE://cluster.local/ns/kube-system/sa/admin"),
                        "has 2 SPIFFE URI SANs"),
                argumentSet(
                        "an upper-case scheme is not a strict SPIFFE id",
                        leaf().uri("SPIFFE://cluster.local/ns/default/sa/sleep"),
                        "does not start with spiffe://"),
                argumentSet(
                        "a NUL byte after the service account is rejected, not truncated (CVE-2025-66220)",
                        leaf().uri(SLEEP + "\0.evil.example"),
                        "contains a NUL byte at offset 42"),
                argumentSet(
                        "a NUL byte before a second identity is rejected",
                        leaf().uri("spiffe://evil/ns/x/sa/y\0" + SLEEP),
                        "contains a NUL byte at offset 23"),
                argumentSet(
                        "a NUL byte in a URI SAN of another scheme rejects the certificate too",
                        leaf().uri("https://example.com/\0").uri(SLEEP),
                        "contains a NUL byte"),
                argumentSet(
                        "a newline is rejected",
                        leaf().uri(SLEEP + "\nspiffe://evil/ns/x/sa/y"),
                        "contains a control character 0x0a"),
                argumentSet(
                        "a space is rejected", leaf().uri("spiffe://cluster.local/ns/de fault/sa/sleep"), "byte 0x20"),
                argumentSet(
                        "a non-ASCII byte is rejected",
                        leaf().uri("spiffe://cluster.local/ns/d\u00e9fault/sa/sleep"),
                        "byte 0xe9"),
                argumentSet(
                        "a percent-encoded slash is not decoded",
                        leaf().uri("spiffe://cluster.local/ns/default%2Fsa%2Fadmin/sa/sleep"),
                        "contains '%'"),
                argumentSet(
                        "a percent-encoded NUL is not decoded",
                        leaf().uri("spiffe://cluster.local/ns/default/sa/sleep%00"),
                        "contains '%'"),
                argumentSet(
                        "a userinfo before the trust domain is rejected",
                        leaf().uri("spiffe://evil@cluster.local/ns/default/sa/sleep"),
                        "contains '@'"),
                argumentSet(
                        "a port after the trust domain is rejected",
                        leaf().uri("spiffe://cluster.local:443/ns/default/sa/sleep"),
                        "contains ':'"),
                argumentSet("a query is rejected", leaf().uri(SLEEP + "?sa=admin"), "contains '?'"),
                argumentSet("a fragment is rejected", leaf().uri(SLEEP + "#admin"), "contains '#'"),
                argumentSet("an extra path segment is rejected", leaf().uri(SLEEP + "/admin"), "the path is not"),
                argumentSet("a trailing slash is rejected", leaf().uri(SLEEP + "/"), "the path is not"),
                argumentSet(
                        "an empty service account is rejected",
                        leaf().uri("spiffe://cluster.local/ns/default/sa/"),
                        "service account is empty"),
                argumentSet(
                        "a CA certificate is never a workload identity",
                        leaf().ca().uri(SLEEP),
                        "is a CA certificate"),
                argumentSet(
                        "a certificate without subjectAltName has no identity",
                        leaf().noSubjectAltName(),
                        "has no subjectAltName extension"));
    }

    @ParameterizedTest
    @MethodSource
    void keyUsage(TestCertificate cert, Role role, String expectedError) throws Exception {
        X509Certificate built = cert.uri(SLEEP).build();
        if (expectedError == null) {
            assertThat(PeerIdentities.of(built, role)).isEqualTo(SpiffeId.parse(SLEEP));
        } else {
            assertThatThrownBy(() -> PeerIdentities.of(built, role))
                    .isInstanceOf(PeerIdentityException.class)
                    .hasMessageContaining(expectedError);
        }
    }

    static Stream<Arguments> keyUsage() {
        KeyPurposeId server = KeyPurposeId.id_kp_serverAuth;
        KeyPurposeId client = KeyPurposeId.id_kp_clientAuth;
        return Stream.of(
                argumentSet("a workload certificate serves a client", leaf(), Role.CLIENT, null),
                argumentSet("a workload certificate serves a server", leaf(), Role.SERVER, null),
                argumentSet("a clientAuth-only certificate serves a client", leaf().eku(client), Role.CLIENT, null),
                argumentSet("a serverAuth-only certificate serves a server", leaf().eku(server), Role.SERVER, null),
                argumentSet(
                        "a serverAuth-only certificate cannot act as a client (CVE-2022-21657)",
                        leaf().eku(server),
                        Role.CLIENT,
                        "has extendedKeyUsage [serverAuth], which does not allow clientAuth"),
                argumentSet(
                        "a clientAuth-only certificate cannot act as a server",
                        leaf().eku(client),
                        Role.SERVER,
                        "has extendedKeyUsage [clientAuth], which does not allow serverAuth"),
                argumentSet(
                        "a code-signing certificate cannot act as a client",
                        leaf().eku(KeyPurposeId.id_kp_codeSigning),
                        Role.CLIENT,
                        "[codeSigning], which does not allow clientAuth"),
                argumentSet(
                        "anyExtendedKeyUsage does not stand in for clientAuth",
                        leaf().eku(KeyPurposeId.anyExtendedKeyUsage),
                        Role.CLIENT,
                        "[anyExtendedKeyUsage], which does not allow clientAuth"),
                argumentSet(
                        "a certificate without extendedKeyUsage is rejected",
                        leaf().noEku(),
                        Role.SERVER,
                        "has no extendedKeyUsage extension (expected serverAuth for a server)"),
                argumentSet(
                        "a keyUsage without digitalSignature is rejected",
                        leaf().keyUsage(KeyUsage.keyEncipherment),
                        Role.CLIENT,
                        "keyUsage without digitalSignature"));
    }

    @Test
    void aNulByteIsRejectedWhicheverProviderParsedTheCertificate() throws Exception {
        // The JDK refuses a critical SAN with a NUL while parsing; BouncyCastle's provider parses it lazily and
        // hands it over. Either way no identity comes out.
        X509Certificate jdk = leaf().uri(SLEEP + "\0.evil").build();
        X509Certificate bc = new JcaX509CertificateConverter()
                .setProvider(new BouncyCastleProvider())
                .getCertificate(new JcaX509CertificateHolder(jdk));
        assertThat(bc.getClass().getName()).startsWith("org.bouncycastle");
        assertThatThrownBy(() -> PeerIdentities.of(bc)).hasMessageContaining("contains a NUL byte at offset 42");
        assertThatThrownBy(() -> java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(
                                leaf().emptySubject().uri(SLEEP + "\0.evil").buildEncoded())))
                .isInstanceOf(CertificateException.class);
    }

    @Test
    void namesAreComparedLiterallyNotAsPatterns() throws Exception {
        // security-cases row 28: a dot is a dot.
        SpiffeId peer = PeerIdentities.of(
                leaf().uri("spiffe://cluster.local/ns/cert-managerXio/sa/x").build(), Role.CLIENT);
        assertThat(peer).isNotEqualTo(SpiffeId.parse("spiffe://cluster.local/ns/cert-manager.io/sa/x"));
        assertThat(peer.namespace()).isEqualTo("cert-managerXio");
    }
}
