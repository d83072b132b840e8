package io.ambit.hbone.ca;

import static io.ambit.hbone.ca.CaFixtures.HTTPBIN;
import static io.ambit.hbone.ca.CaFixtures.SLEEP;
import static io.ambit.hbone.ca.CaFixtures.assertWorkloadLeaf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.MutableClock;
import io.ambit.hbone.cert.WorkloadCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The embedded CA: one root per state directory, kept across restarts. */
class LocalCaTest {
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(T0);

    @Test
    void createsTheRootOnceAndKeepsItAcrossRestarts() throws Exception {
        Path state = tmp.resolve("state/ca");
        LocalCa first = LocalCa.open(state, clock);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("root-key.pem"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state)))
                .isEqualTo("rwx------");
        assertThat(Files.readString(state.resolve("root-cert.pem"))).startsWith("-----BEGIN CERTIFICATE-----");

        clock.advance(Duration.ofDays(3));
        LocalCa restarted = LocalCa.open(state, clock);
        assertThat(restarted.root()).isEqualTo(first.root());
        WorkloadCertificate cert = restarted.issue(SLEEP, Duration.ofHours(24));
        cert.leaf().verify(first.root().getPublicKey());
    }

    @Test
    void issuesWorkloadCertificatesSignedByTheRoot() throws Exception {
        LocalCa ca = LocalCa.open(tmp, clock);

        WorkloadCertificate sleep = ca.issue(SLEEP, Duration.ofHours(24));
        WorkloadCertificate httpbin = ca.issue(HTTPBIN, Duration.ofHours(24));

        assertWorkloadLeaf(sleep.leaf(), SLEEP);
        assertThat(sleep.chain()).as("the leaf alone").containsExactly(sleep.leaf());
        assertThat(sleep.roots()).containsExactly(ca.root());
        assertThat(sleep.notBefore()).isEqualTo(T0.minus(Duration.ofMinutes(1)));
        assertThat(sleep.notAfter()).isEqualTo(T0.plus(Duration.ofHours(24)));
        Chains.verify(sleep.chain(), sleep.roots(), T0);
        assertThat(httpbin.leaf().getSerialNumber()).isNotEqualTo(sleep.leaf().getSerialNumber());
        assertThat(ca.crl()).isEmpty();
        assertThat(ca.root().getSubjectX500Principal().getName()).startsWith("CN=ambit local CA ");
        assertThat(ca.root().getBasicConstraints()).isGreaterThanOrEqualTo(0);
    }

    @FunctionalInterface
    interface Damage {
        void apply(Path dir) throws Exception;
    }

    @ParameterizedTest
    @MethodSource
    void refusesAStateDirectoryThatHoldsHalfACa(Damage damage, String expected) throws Exception {
        LocalCa.open(tmp, clock);
        damage.apply(tmp);
        assertThatThrownBy(() -> LocalCa.open(tmp, clock))
                .isInstanceOf(CertificateSourceException.class)
                .hasMessageContaining(expected);
    }

    static Stream<Arguments> refusesAStateDirectoryThatHoldsHalfACa() {
        return Stream.of(
                argumentSet(
                        "a root without its key",
                        (Damage) d -> Files.delete(d.resolve("root-key.pem")),
                        "has root-cert.pem but no root-key.pem (expected both or neither"),
                argumentSet(
                        "a key without its root",
                        (Damage) d -> Files.delete(d.resolve("root-cert.pem")),
                        "has root-key.pem but no root-cert.pem"),
                argumentSet(
                        "a key of another root",
                        (Damage) d -> Pem.write(
                                d.resolve("root-key.pem"),
                                Pem.encodePrivateKey(SigningCa.newKeyPair().getPrivate()),
                                true),
                        "root-key.pem does not match the public key of"),
                argumentSet(
                        "a workload certificate as the root",
                        (Damage) d -> {
                            var leaf = SigningCa.newRoot("CN=x", T0, Duration.ofDays(1))
                                    .issue(SLEEP, T0, Duration.ofHours(1));
                            Pem.write(d.resolve("root-cert.pem"), Pem.encodeCertificates(List.of(leaf.leaf())), false);
                            Pem.write(d.resolve("root-key.pem"), Pem.encodePrivateKey(leaf.key()), true);
                        },
                        "is not a CA certificate"));
    }

    @Test
    void refusesAnExpiredRoot() throws Exception {
        LocalCa.open(tmp, clock);
        clock.advance(Duration.ofDays(3651));
        assertThatThrownBy(() -> LocalCa.open(tmp, clock)).hasMessageContaining("the local CA root expired at");
    }
}
