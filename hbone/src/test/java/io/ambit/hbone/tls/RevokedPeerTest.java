package io.ambit.hbone.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.metrics.HboneMetrics;
import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.StreamEcho;
import io.ambit.hbone.testsupport.StreamIo;
import io.ambit.hbone.testsupport.TestLoops;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509CRL;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * CRL enforcement on HBONE (ztunnel-reference §3.4, security-cases row 25): a revoked peer is refused in
 * the handshake, and a CRL update closes the live connections of peers it revokes, on the server and on
 * the pool. CRLs come from {@link SigningCa#newCrl}; {@link RevocationChecker#refresh()} is driven directly.
 */
@ExtendWith(NoLeaks.class)
final class RevokedPeerTest {
    private static final TunnelRequest ANYWHERE = TunnelRequest.to(Authority.parse("127.0.0.1:9"));
    private static final byte[] HELLO = "hello through HBONE".getBytes(StandardCharsets.US_ASCII);

    private static TestLoops loops;
    private static SigningCa root;
    private static SigningCa intermediate;

    private final AtomicReference<Optional<X509CRL>> published = new AtomicReference<>(Optional.empty());
    private final RevocationChecker crl = new RevocationChecker(published::get, Clock.systemUTC());
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private WorkloadCertificate serverCert;
    private WorkloadCertificate clientCert;

    @BeforeAll
    static void start() throws Exception {
        loops = TestLoops.start();
        Instant now = Instant.now();
        root = SigningCa.newRoot("O=cluster.local, CN=root", now.minus(Duration.ofDays(1)), Duration.ofDays(3650));
        intermediate = root.newIntermediate("O=cluster.local, CN=intermediate", now, Duration.ofDays(365));
    }

    @AfterAll
    static void stop() {
        loops.close();
    }

    @BeforeEach
    void issue() throws Exception {
        serverCert = intermediate.issue(Ids.SERVER, Instant.now(), Duration.ofDays(1));
        clientCert = intermediate.issue(Ids.CLIENT, Instant.now(), Duration.ofDays(1));
    }

    @Test
    void aRevokedClientIsRefusedInTheHandshake() throws Exception {
        revoke(intermediate, clientCert.leaf().getSerialNumber());
        try (HboneFixture hbone = start(crl, null)) {
            // TLS 1.3: the client's handshake is done before the server checks it, so the pool sees the
            // connection end during setup rather than the server's certificate_revoked alert.
            assertThat(Await.failure(hbone.pool.connect(hbone.key(), ANYWHERE))).isNotNull();

            Await.until(() -> rejections("destination") == 1, "the server counted the rejection");
            assertThat(hbone.server.stats().handshakeFailures()).isEqualTo(1);
            assertThat(hbone.server.stats().handshakes()).isZero();
        }
    }

    @Test
    void aRevokedServerIsRefusedInTheHandshake() throws Exception {
        revoke(intermediate, serverCert.leaf().getSerialNumber());
        try (HboneFixture hbone = start(null, crl)) {
            Throwable refused = Await.failure(hbone.pool.connect(hbone.key(), ANYWHERE));

            assertThat(refused).isInstanceOf(SSLException.class);
            assertThat(PeerRevokedException.isCause(refused)).isTrue();
            assertThat(rejections("source")).isEqualTo(1);
        }
    }

    @Test
    void aRevokedIntermediateRefusesEveryChainThroughIt() throws Exception {
        revoke(root, intermediate.certificate().getSerialNumber());
        try (HboneFixture hbone = start(null, crl)) {
            Throwable refused = Await.failure(hbone.pool.connect(hbone.key(), ANYWHERE));

            assertThat(PeerRevokedException.isCause(refused)).isTrue();
            assertThat(refused).hasStackTraceContaining("\"CN=intermediate,O=cluster.local\" from \"CN=root");
        }
    }

    @Test
    void aLiveTunnelIsClosedWhenACrlRevokingItsClientArrives() throws Exception {
        try (HboneFixture hbone = start(crl, null)) {
            HboneStream tunnel = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            StreamIo.Talk talk = StreamIo.talk(tunnel);
            assertThat(Await.get(talk.roundTrip(HELLO))).isEqualTo(HELLO);

            revoke(intermediate, BigInteger.valueOf(4242)); // someone else
            assertThat(Await.get(talk.roundTrip(HELLO)))
                    .as("a CRL that does not list the client leaves its connection alone")
                    .isEqualTo(HELLO);

            revoke(intermediate, BigInteger.valueOf(4242), clientCert.leaf().getSerialNumber());
            Await.get(talk.closed);
            Await.get(tunnel.channel().parent().closeFuture());
            Await.until(
                    () -> rejections("destination") == 1 && hbone.server.stats().connectionsOpen() == 0,
                    "the server counted the rejection and closed its side");
            assertThat(Await.failure(hbone.pool.connect(hbone.key(), ANYWHERE))).isNotNull();
            Await.until(
                    () -> rejections("destination") == 2 && hbone.server.stats().handshakeFailures() == 1,
                    "the client cannot come back: refused in the handshake");
        }
    }

    @Test
    void aLiveTunnelIsClosedWhenACrlRevokingItsServerArrives() throws Exception {
        try (HboneFixture hbone = start(null, crl)) {
            HboneStream tunnel = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            StreamIo.Talk talk = StreamIo.talk(tunnel);
            assertThat(Await.get(talk.roundTrip(HELLO))).isEqualTo(HELLO);

            revoke(intermediate, serverCert.leaf().getSerialNumber());
            Await.get(talk.closed);
            Await.get(tunnel.channel().parent().closeFuture());
            assertThat(rejections("source")).isEqualTo(1);
            Await.until(() -> hbone.pool.connectionCount(hbone.key()) == 0, "the connection left the pool");
            Throwable refused = Await.failure(hbone.pool.connect(hbone.key(), ANYWHERE));
            assertThat(PeerRevokedException.isCause(refused))
                    .as("a new dial refuses the revoked server in the handshake")
                    .isTrue();
        }
    }

    // --- helpers

    /** A server and a pool with the certificates of this test, each with {@code crl} or none. */
    private HboneFixture start(RevocationChecker serverCrl, RevocationChecker poolCrl) throws Exception {
        return HboneFixture.builder(loops, new StreamEcho())
                .serverTls(new ServerTls(() -> serverCert, TlsSettings.defaults(), serverCrl))
                .clientTls(new ClientTls(TlsSettings.defaults(), poolCrl))
                .sourceCertificates(SourceCertificates.of(() -> clientCert))
                .metrics(HboneMetrics.of(registry))
                .start();
    }

    /** Publishes a CRL from {@code ca} revoking {@code serials} and has the checker read it now. */
    private void revoke(SigningCa ca, BigInteger... serials) throws Exception {
        published.set(Optional.of(ca.newCrl(Instant.now(), Duration.ofDays(1), List.of(serials))));
        assertThat(crl.refresh()).as("the CRL is new").isTrue();
    }

    private double rejections(String reporter) {
        return registry.get(HboneMetrics.CRL_POLICY_REJECTIONS)
                .tag(HboneMetrics.REPORTER, reporter)
                .counter()
                .count();
    }
}
