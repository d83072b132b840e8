package io.ambit.hbone.ca;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.util.List;

/** Writing CA directories and checking workload leaves, shared by the source tests. */
final class CaFixtures {
    static final SpiffeId SLEEP = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/sleep");
    static final SpiffeId HTTPBIN = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/httpbin");

    private CaFixtures() {}

    /** Writes {@code ca} in the cacerts layout. */
    static void writeCacerts(Path dir, SigningCa ca) throws IOException {
        Pem.write(dir.resolve(PluggedCa.ROOT_CERT), Pem.encodeCertificates(ca.roots()), false);
        Pem.write(dir.resolve(PluggedCa.CA_CERT), Pem.encodeCertificates(List.of(ca.certificate())), false);
        Pem.write(dir.resolve(PluggedCa.CA_KEY), Pem.encodePrivateKey(ca.key()), true);
        Pem.write(dir.resolve(PluggedCa.CERT_CHAIN), Pem.encodeCertificates(ca.chain()), false);
    }

    /** What istiod issues and ztunnel expects of a workload leaf (ztunnel-reference §3.2). */
    static void assertWorkloadLeaf(X509Certificate leaf, SpiffeId id) throws Exception {
        assertThat(leaf.getSubjectX500Principal().getName()).as("empty subject").isEmpty();
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, id.toString()));
        assertThat(leaf.getCriticalExtensionOIDs())
                .as("SAN, keyUsage and basicConstraints are critical")
                .containsExactlyInAnyOrder("2.5.29.17", "2.5.29.15", "2.5.29.19");
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(leaf.getKeyUsage()).startsWith(true, false, false, false, false, false, false);
        assertThat(leaf.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        assertThat(leaf.getSerialNumber().signum()).isPositive();
        assertThat(leaf.getSerialNumber().bitLength()).isLessThanOrEqualTo(128).isGreaterThan(64);
        assertThat(leaf.getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) leaf.getPublicKey()).getParams().getOrder().bitLength())
                .as("P-256")
                .isEqualTo(256);
        assertThat(leaf.getExtensionValue("2.5.29.14")).as("subject key id").isNotNull();
        assertThat(leaf.getExtensionValue("2.5.29.35")).as("authority key id").isNotNull();
    }
}
