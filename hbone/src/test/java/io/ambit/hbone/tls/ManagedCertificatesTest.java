package io.ambit.hbone.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.cert.FakeScheduler;
import io.ambit.hbone.cert.ManualExecutor;
import io.ambit.hbone.cert.MutableClock;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.StreamEcho;
import io.ambit.hbone.testsupport.StreamIo;
import io.ambit.hbone.testsupport.TestLoops;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The certificate manager feeding HBONE TLS: the server presents, and the pool dials with, the manager's
 * current certificate per identity. Rotation runs on a fake clock; the handshakes run for real, so the
 * fake clock starts 13 hours in the past: both the first certificates and the ones rotated in at half
 * their 24-hour life are valid now, as PKIX sees it.
 */
@ExtendWith(NoLeaks.class)
final class ManagedCertificatesTest {
    private static final TunnelRequest ANYWHERE = TunnelRequest.to(Authority.parse("127.0.0.1:9"));
    private static final byte[] HELLO = "hello through HBONE".getBytes(StandardCharsets.US_ASCII);
    private static final Executor DIRECT = Runnable::run;

    private static TestLoops loops;

    private final MutableClock clock =
            new MutableClock(Instant.now().minus(Duration.ofHours(13)).truncatedTo(ChronoUnit.SECONDS));
    private final FakeScheduler scheduler = new FakeScheduler(clock);
    private final SigningCa ca = SigningCa.newRoot(
            "O=cluster.local, CN=managed root", clock.instant().minus(Duration.ofDays(1)), Duration.ofDays(3650));
    private final CertificateSource source = (identity, ttl) -> ca.issue(identity, clock.instant(), ttl);
    private final BlockingQueue<TlsPeer> clientsSeen = new LinkedBlockingQueue<>();
    private final ConnectHandler recordingEcho = request -> {
        clientsSeen.add(request.peer());
        return new StreamEcho().onConnect(request);
    };

    @BeforeAll
    static void start() {
        loops = TestLoops.start();
    }

    @AfterAll
    static void stop() {
        loops.close();
    }

    @Test
    void afterARotationNewHandshakesUseTheNewCertificatesWhileALiveConnectionKeepsWorking() throws Exception {
        try (CertificateManager manager = manager(DIRECT);
                HboneFixture hbone = start(manager)) {
            HboneStream before = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            StreamIo.Talk talk = StreamIo.talk(before);
            assertThat(Await.get(talk.roundTrip(HELLO))).isEqualTo(HELLO);
            WorkloadCertificate firstServer = manager.current(Ids.SERVER).orElseThrow();
            WorkloadCertificate firstClient = manager.current(Ids.CLIENT).orElseThrow();
            assertThat(before.peer().certificate()).isEqualTo(firstServer.leaf());
            assertThat(clientsSeen.take().certificate()).isEqualTo(firstClient.leaf());

            scheduler.advanceTo(
                    firstServer.notBefore().plus(firstServer.lifetime().dividedBy(2)));
            WorkloadCertificate secondServer = manager.current(Ids.SERVER).orElseThrow();
            WorkloadCertificate secondClient = manager.current(Ids.CLIENT).orElseThrow();
            assertThat(secondServer).isNotSameAs(firstServer);
            assertThat(secondClient).isNotSameAs(firstClient);

            assertThat(Await.get(talk.roundTrip(HELLO)))
                    .as("the live tunnel keeps working")
                    .isEqualTo(HELLO);
            HboneStream sameConnection = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            assertThat(sameConnection.channel().parent())
                    .as("a pooled connection keeps serving new streams with the certificates it was opened with")
                    .isSameAs(before.channel().parent());
            assertThat(clientsSeen.take().certificate()).isEqualTo(firstClient.leaf());

            PoolKey anotherKey =
                    new PoolKey(Ids.CLIENT, Set.of(Ids.SERVER, Ids.OTHER_SERVER), null, hbone.server.localAddress());
            HboneStream after = Await.get(hbone.pool.connect(anotherKey, ANYWHERE));
            assertThat(after.channel().parent()).isNotSameAs(before.channel().parent());
            assertThat(after.peer().certificate())
                    .as("the server presents its new certificate")
                    .isEqualTo(secondServer.leaf());
            assertThat(clientsSeen.take().certificate())
                    .as("the pool presents its new certificate")
                    .isEqualTo(secondClient.leaf());
            assertThat(Await.get(StreamIo.exchange(after, HELLO))).isEqualTo(HELLO);

            assertThat(Await.get(StreamIo.exchange(sameConnection, HELLO))).isEqualTo(HELLO);
            sameConnection.channel().close();
            before.channel().close();
        }
    }

    @Test
    void theServerRefusesConnectionsUntilItsFirstCertificateArrives() throws Exception {
        ManualExecutor issuance = new ManualExecutor();
        try (CertificateManager manager = manager(issuance)) {
            manager.certificate(Ids.CLIENT); // queued first: the pool's certificate is ready before the server's
            try (HboneFixture hbone = start(manager)) {
                issuance.runNext();
                assertThat(manager.current(Ids.CLIENT)).isPresent();
                assertThat(manager.current(Ids.SERVER)).isEmpty();

                assertThat(Await.failure(hbone.pool.connect(hbone.key(), ANYWHERE)))
                        .isNotNull();
                assertThat(hbone.server.stats().handshakeFailures()).isEqualTo(1);

                issuance.runAll();
                HboneStream tunnel = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
                assertThat(tunnel.peer().certificate())
                        .isEqualTo(manager.current(Ids.SERVER).orElseThrow().leaf());
                assertThat(Await.get(StreamIo.exchange(tunnel, HELLO))).isEqualTo(HELLO);
            }
        }
    }

    // --- helpers

    /** A manager on the fake clock: 24-hour certificates rotated at exactly half their life. */
    private CertificateManager manager(Executor issuance) {
        return CertificateManager.builder(source, scheduler, issuance)
                .clock(clock)
                .rotationJitter(0)
                .random(() -> 0.5)
                .build();
    }

    private HboneFixture start(CertificateManager manager) throws Exception {
        return HboneFixture.builder(loops, recordingEcho)
                .serverTls(ServerTls.forIdentity(manager, Ids.SERVER, TlsSettings.defaults(), null))
                .sourceCertificates(SourceCertificates.from(manager))
                .start();
    }
}
