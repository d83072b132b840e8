package io.ambit.hbone.ca;

import static io.ambit.hbone.ca.CaFixtures.HTTPBIN;
import static io.ambit.hbone.ca.CaFixtures.SLEEP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.MutableClock;
import io.ambit.hbone.cert.WorkloadCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A certificate someone else wrote to disk, as a source. */
class StaticCertificatesTest {
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(T0);
    private SigningCa ca;

    @BeforeEach
    void writeCertificate() throws Exception {
        ca = SigningCa.newRoot("O=cluster.local, CN=root", T0.minus(Duration.ofDays(1)), Duration.ofDays(3650))
                .newIntermediate(
                        "O=cluster.local, CN=intermediate", T0.minus(Duration.ofDays(1)), Duration.ofDays(365));
        write(ca.issue(SLEEP, T0, Duration.ofHours(24)));
    }

    private void write(WorkloadCertificate cert) throws Exception {
        Pem.write(dir.resolve("cert-chain.pem"), Pem.encodeCertificates(cert.chain()), false);
        Pem.write(dir.resolve("key.pem"), Pem.encodePrivateKey(cert.key()), true);
        Pem.write(dir.resolve("root-cert.pem"), Pem.encodeCertificates(cert.roots()), false);
    }

    @Test
    void servesTheIdentityOnDiskAndOnlyThatOne() throws Exception {
        StaticCertificates source = StaticCertificates.fromDirectory(dir, clock);

        assertThat(source.identity()).isEqualTo(SLEEP);
        WorkloadCertificate cert = source.issue(SLEEP, Duration.ofHours(1));
        assertThat(cert.chain()).hasSize(3);
        assertThat(cert.notAfter()).as("the requested lifetime is ignored").isEqualTo(T0.plus(Duration.ofHours(24)));
        assertThatThrownBy(() -> source.issue(HTTPBIN, Duration.ofHours(1)))
                .hasMessageContaining("cert-chain.pem is for " + SLEEP + ", not " + HTTPBIN);
    }

    @Test
    void picksUpACertificateRotatedOnDisk() throws Exception {
        StaticCertificates source = StaticCertificates.fromDirectory(dir, clock);
        clock.advance(Duration.ofHours(12));
        WorkloadCertificate rotated = ca.issue(SLEEP, clock.instant(), Duration.ofHours(24));
        write(rotated);

        assertThat(source.issue(SLEEP, Duration.ofHours(24)).leaf()).isEqualTo(rotated.leaf());
    }

    @FunctionalInterface
    interface Damage {
        void apply(Path dir, StaticCertificatesTest test) throws Exception;
    }

    @ParameterizedTest
    @MethodSource
    void refusesFilesThatDoNotFit(Damage damage, String expected) throws Exception {
        damage.apply(dir, this);
        assertThatThrownBy(() -> StaticCertificates.fromDirectory(dir, clock))
                .isInstanceOf(CertificateSourceException.class)
                .hasMessageContaining(expected);
    }

    static Stream<Arguments> refusesFilesThatDoNotFit() {
        return Stream.of(
                argumentSet(
                        "a key of another certificate",
                        (Damage) (d, t) -> Files.writeString(
                                d.resolve("key.pem"),
                                Pem.encodePrivateKey(SigningCa.newKeyPair().getPrivate())),
                        "key.pem does not match the public key of the first certificate in"),
                argumentSet(
                        "roots that did not issue the chain",
                        (Damage) (d, t) -> Files.writeString(
                                d.resolve("root-cert.pem"),
                                Pem.encodeCertificates(List.of(SigningCa.newRoot("CN=other", T0, Duration.ofDays(1))
                                        .certificate()))),
                        "does not chain to"),
                argumentSet(
                        "an expired certificate",
                        (Damage) (d, t) -> t.clock.advance(Duration.ofHours(25)),
                        "is valid from 2026-02-28T23:59:00Z to 2026-03-02T00:00:00Z, not now"),
                argumentSet(
                        "a CA certificate where the workload certificate belongs",
                        (Damage) (d, t) -> Files.writeString(
                                d.resolve("cert-chain.pem"), Pem.encodeCertificates(List.of(t.ca.certificate()))),
                        "is a CA certificate (basicConstraints cA=true); a workload identity must be a leaf"),
                argumentSet(
                        "a missing key file",
                        (Damage) (d, t) -> Files.delete(d.resolve("key.pem")),
                        "key.pem: no such file (expected the private key of the workload certificate in PEM)"));
    }
}
