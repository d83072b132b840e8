package io.ambit.xds.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.client.XdsSettings;
import java.io.StringReader;
import java.net.URI;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.junit.jupiter.api.Test;

class IstioCaClientTest {
    private static final SpiffeId SELF = SpiffeId.parse("spiffe://cluster.local/ns/istio-system/sa/ztunnel");
    private static final SpiffeId POD = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/web");

    @Test
    void theCsrIsP256WithTheSpiffeIdAsItsOnlyCriticalSanAndAnEmptySubject() throws Exception {
        var csr = Csr.forIdentity(POD);
        PKCS10CertificationRequest parsed;
        try (var p = new PEMParser(new StringReader(csr.pem()))) {
            parsed = (PKCS10CertificationRequest) p.readObject();
        }
        var key = new JcaPKCS10CertificationRequest(parsed).getPublicKey();
        assertThat(((ECPublicKey) key).getParams().getCurve().getField().getFieldSize())
                .isEqualTo(256);
        assertThat(parsed.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key)))
                .isTrue();
        assertThat(parsed.getSubject().getRDNs()).isEmpty();
        assertThat(parsed.getSignatureAlgorithm().getAlgorithm().getId())
                .isEqualTo("1.2.840.10045.4.3.2"); // ecdsa-with-SHA256
        var ext = Extensions.getInstance(parsed.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0]
                .getAttrValues()
                .getObjectAt(0));
        var san = ext.getExtension(Extension.subjectAlternativeName);
        assertThat(san.isCritical()).isTrue();
        var names = org.bouncycastle.asn1.x509.GeneralNames.getInstance(san.getParsedValue())
                .getNames();
        assertThat(names).hasSize(1);
        assertThat(names[0].getTagNo()).isEqualTo(GeneralName.uniformResourceIdentifier);
        assertThat(names[0].getName().toString()).isEqualTo(POD.toString());
    }

    @Test
    void aPodsIdentityIsAskedForByImpersonationAndOurOwnWithout() {
        var client = new IstioCaClient(XdsSettings.of(URI.create("https://127.91.0.1:15012"), null, null, "c1"), SELF);
        try {
            var forPod = client.request(POD, "csr", Duration.ofHours(24));
            assertThat(forPod.getValidityDuration()).isEqualTo(86400);
            assertThat(forPod.getMetadata()
                            .getFieldsMap()
                            .get("ImpersonatedIdentity")
                            .getStringValue())
                    .isEqualTo("spiffe://cluster.local/ns/shop/sa/web");
            assertThat(client.request(SELF, "csr", Duration.ofHours(1)).hasMetadata())
                    .isFalse();
        } finally {
            client.close();
        }
    }

    @Test
    void theLastChainElementIsTheRootBundleAndTheMiddleOnesIntermediates() throws Exception {
        var now = Instant.now();
        var root1 = SigningCa.newRoot("CN=root one", now, Duration.ofDays(10));
        var root2 = SigningCa.newRoot("CN=root two", now, Duration.ofDays(10));
        var inter = root1.newIntermediate("CN=intermediate", now, Duration.ofDays(5));
        var csr = Csr.forIdentity(POD);
        var leaf = signedFor(inter, csr);
        var cert = IstioCaClient.certificate(
                POD,
                csr,
                List.of(
                        Pem.encodeCertificates(List.of(leaf)),
                        Pem.encodeCertificates(List.of(inter.certificate())),
                        Pem.encodeCertificates(List.of(root1.certificate(), root2.certificate()))));
        assertThat(cert.chain()).containsExactly(leaf, inter.certificate());
        assertThat(cert.roots()).containsExactly(root1.certificate(), root2.certificate());
        assertThat(cert.key()).isEqualTo(csr.keys().getPrivate());
    }

    @Test
    void answersThatCannotBeUsedAreCaFailuresNamingWhy() throws Exception {
        var now = Instant.now();
        var root = SigningCa.newRoot("CN=root", now, Duration.ofDays(10));
        var csr = Csr.forIdentity(POD);
        var otherKey = Csr.forIdentity(POD);
        var leaf = signedFor(root, otherKey);
        String rootPem = Pem.encodeCertificates(List.of(root.certificate()));
        assertThatThrownBy(() -> IstioCaClient.certificate(POD, csr, List.of(rootPem)))
                .hasMessageContaining("1 certificate chain element(s)");
        assertThatThrownBy(() ->
                        IstioCaClient.certificate(POD, csr, List.of(Pem.encodeCertificates(List.of(leaf)), rootPem)))
                .hasMessageContaining("another key than the one asked for");
        assertThatThrownBy(() -> IstioCaClient.certificate(POD, csr, List.of("garbage", rootPem)))
                .hasMessageContaining("cert_chain[0]");
    }

    /** A leaf for the CSR's key, as a CA would sign it (reusing hbone's issuing, then swapping nothing). */
    private static java.security.cert.X509Certificate signedFor(SigningCa ca, Csr csr) throws Exception {
        var b = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
                ca.certificate(),
                java.math.BigInteger.TEN,
                java.util.Date.from(Instant.now().minusSeconds(60)),
                java.util.Date.from(Instant.now().plusSeconds(3600)),
                new org.bouncycastle.asn1.x500.X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                csr.keys().getPublic());
        b.addExtension(
                Extension.subjectAlternativeName,
                true,
                new org.bouncycastle.asn1.x509.GeneralNames(
                        new GeneralName(GeneralName.uniformResourceIdentifier, POD.toString())));
        var signer = new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(ca.key());
        return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(b.build(signer));
    }
}
