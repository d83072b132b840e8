package io.ambit.hbone.cert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.ca.PluggedCa;
import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.identity.SpiffeId;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** CRL revocation of peers, and the signal that closes their live connections. */
class RevocationCheckerTest {
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
    private static final Instant EPOCH = T0.minus(Duration.ofDays(1));
    private static final SpiffeId SLEEP = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/sleep");
    private static final SpiffeId HTTPBIN = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/httpbin");

    private static SigningCa root;
    private static SigningCa intermediate;
    private static SigningCa otherIntermediate;
    private static WorkloadCertificate revoked;
    private static WorkloadCertificate good;
    private static WorkloadCertificate fromOther;

    private final MutableClock clock = new MutableClock(T0);
    private final AtomicReference<Optional<X509CRL>> published = new AtomicReference<>(Optional.empty());
    private final RevocationChecker checker = new RevocationChecker(published::get, clock);
    private final List<Revocations> heard = new ArrayList<>();

    @BeforeAll
    static void issue() throws Exception {
        root = SigningCa.newRoot("O=cluster.local, CN=root", EPOCH, Duration.ofDays(3650));
        intermediate = root.newIntermediate("O=cluster.local, CN=intermediate", EPOCH, Duration.ofDays(365));
        otherIntermediate = root.newIntermediate("O=cluster.local, CN=other", EPOCH, Duration.ofDays(365));
        revoked = intermediate.issue(SLEEP, T0, Duration.ofHours(24));
        good = intermediate.issue(HTTPBIN, T0, Duration.ofHours(24));
        fromOther = otherIntermediate.issue(SLEEP, T0, Duration.ofHours(24));
    }

    @ParameterizedTest
    @MethodSource
    void decidesWhoIsRevoked(List<X509Certificate> chain, boolean expected) throws Exception {
        var byIntermediate = intermediate.newCrl(
                T0, Duration.ofDays(7), List.of(revoked.leaf().getSerialNumber()));
        published.set(Optional.of(byIntermediate));
        checker.refresh();

        assertThat(checker.isRevoked(chain)).isEqualTo(expected);
        assertThat(checker.isRevoked(chain.getFirst())).isEqualTo(expected);
    }

    static Stream<Arguments> decidesWhoIsRevoked() {
        return Stream.of(
                argumentSet("a leaf on the CRL is revoked", revoked.chain(), true),
                argumentSet("a leaf from the same CA not on the CRL is not", good.chain(), false),
                argumentSet(
                        "the same serial from another CA is not (issuer and serial must both match)",
                        withSerialOf(fromOther, revoked),
                        false));
    }

    @Test
    void aRevokedIntermediateRevokesEveryChainThroughIt() throws Exception {
        published.set(Optional.of(root.newCrl(
                T0, Duration.ofDays(7), List.of(intermediate.certificate().getSerialNumber()))));
        checker.refresh();

        assertThat(checker.isRevoked(good.chain())).isTrue();
        assertThat(checker.isRevoked(good.leaf()))
                .as("the leaf itself is not listed")
                .isFalse();
        assertThat(checker.isRevoked(fromOther.chain())).isFalse();
    }

    @Test
    void nothingIsRevokedBeforeACrlArrives() {
        assertThat(checker.refresh()).isFalse();
        assertThat(checker.current()).isEqualTo(Revocations.NONE);
        assertThat(checker.isRevoked(revoked.chain())).isFalse();
        assertThat(checker.revokedSerials()).isEmpty();
    }

    @Test
    void listenersHearEachNewCrlOnce() throws Exception {
        checker.addListener(heard::add);
        BigInteger first = revoked.leaf().getSerialNumber();
        BigInteger second = good.leaf().getSerialNumber();
        X509CRL crl1 = intermediate.newCrl(T0, Duration.ofDays(7), List.of(first));
        X509CRL crl2 = intermediate.newCrl(T0.plusSeconds(60), Duration.ofDays(7), List.of(first, second));

        published.set(Optional.of(crl1));
        assertThat(checker.refresh()).isTrue();
        assertThat(checker.refresh()).as("the same CRL again is no news").isFalse();
        assertThat(heard).hasSize(1);
        assertThat(heard.getFirst().revokedSerials()).containsExactly(first);

        published.set(Optional.of(crl2));
        assertThat(checker.refresh()).isTrue();
        assertThat(heard).hasSize(2);
        assertThat(checker.revokedSerials()).containsExactlyInAnyOrder(first, second);
        assertThat(checker.isRevoked(good.chain())).isTrue();

        published.set(Optional.of(crl1));
        assertThat(checker.refresh()).as("an older CRL does not un-revoke").isFalse();
        assertThat(checker.isRevoked(good.chain())).isTrue();

        published.set(Optional.empty());
        assertThat(checker.refresh())
                .as("a CRL that disappears keeps its revocations")
                .isFalse();
        assertThat(checker.isRevoked(good.chain())).isTrue();
        assertThat(heard).hasSize(2);
    }

    @Test
    void aPluggedCaCrlIsPickedUpOnSchedule(@TempDir Path dir) throws Exception {
        Pem.write(dir.resolve(PluggedCa.ROOT_CERT), Pem.encodeCertificates(intermediate.roots()), false);
        Pem.write(dir.resolve(PluggedCa.CA_CERT), Pem.encodeCertificates(List.of(intermediate.certificate())), false);
        Pem.write(dir.resolve(PluggedCa.CA_KEY), Pem.encodePrivateKey(intermediate.key()), true);
        Pem.write(dir.resolve(PluggedCa.CERT_CHAIN), Pem.encodeCertificates(intermediate.chain()), false);
        PluggedCa ca = PluggedCa.open(dir, clock);
        var scheduler = new FakeScheduler(clock);
        var fromCa = RevocationChecker.of(ca, clock);
        fromCa.addListener(heard::add);
        var refreshing = fromCa.refreshEvery(scheduler, Duration.ofSeconds(30));
        WorkloadCertificate peer = ca.issue(SLEEP, Duration.ofHours(1));

        scheduler.advance(Duration.ofSeconds(30));
        assertThat(heard).isEmpty();

        Pem.write(
                dir.resolve(PluggedCa.CA_CRL),
                Pem.encodeCrl(intermediate.newCrl(
                        T0, Duration.ofDays(1), List.of(peer.leaf().getSerialNumber()))),
                false);
        scheduler.advance(Duration.ofSeconds(29));
        assertThat(heard).isEmpty();
        scheduler.advance(Duration.ofSeconds(1));
        assertThat(heard).hasSize(1);
        assertThat(heard.getFirst().isRevoked(peer.chain())).isTrue();
        assertThat(fromCa.isRevoked(peer.chain())).isTrue();

        refreshing.cancel();
        assertThat(scheduler.pending()).isEmpty();
    }

    /** {@code cert}'s chain, with its leaf re-signed by its own CA under {@code other}'s serial. */
    private static List<X509Certificate> withSerialOf(WorkloadCertificate cert, WorkloadCertificate other) {
        try {
            var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
                    otherIntermediate.certificate(),
                    other.leaf().getSerialNumber(),
                    cert.leaf().getNotBefore(),
                    cert.leaf().getNotAfter(),
                    new org.bouncycastle.asn1.x500.X500Name("CN=peer"),
                    cert.leaf().getPublicKey());
            var signer = new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                    .build(otherIntermediate.key());
            X509Certificate leaf = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
                    .getCertificate(builder.build(signer));
            List<X509Certificate> chain = new ArrayList<>(cert.chain());
            chain.set(0, leaf);
            return chain;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
