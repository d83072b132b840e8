package io.ambit.hbone.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.StreamEcho;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.UpstreamConnector;
import io.ambit.hbone.transport.Http2Config;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The client pool: how many connections and handshakes a workload of streams costs, and when they go. */
@ExtendWith(NoLeaks.class)
final class HbonePoolTest {
    private static final TunnelRequest ANYWHERE = TunnelRequest.to(Authority.parse("127.0.0.1:9"));
    private static TestLoops loops;

    @BeforeAll
    static void start() {
        loops = TestLoops.start();
    }

    @AfterAll
    static void stop() {
        loops.close();
    }

    @Test
    void aThousandConcurrentCallersCostOneHandshake() throws Exception {
        HboneServerConfig server = HboneFixture.defaultServerConfig()
                .withHttp2(Http2Config.serverDefaults().withMaxConcurrentStreams(1000));
        PoolConfig pool =
                PoolConfig.defaults().withHttp2(Http2Config.clientDefaults().withMaxConcurrentStreams(1000));
        try (HboneFixture hbone = HboneFixture.start(loops, server, new StreamEcho(), pool)) {
            List<HboneStream> streams = openConcurrently(hbone, 1000);

            assertThat(hbone.pool.stats().dials()).isEqualTo(1);
            assertThat(hbone.server.stats().handshakes()).isEqualTo(1);
            assertThat(streams)
                    .extracting(s -> s.channel().parent())
                    .containsOnly(streams.getFirst().channel().parent());
            endAll(streams);
        }
    }

    @Test
    void streamsBeyondOneHundredOpenAnotherConnection() throws Exception {
        try (HboneFixture hbone = HboneFixture.start(loops, new StreamEcho())) {
            List<HboneStream> streams = openConcurrently(hbone, 250);

            assertThat(hbone.pool.stats().dials()).isEqualTo(3);
            assertThat(hbone.pool.connectionCount(hbone.key())).isEqualTo(3);
            assertThat(streams.stream().map(s -> s.channel().parent()).distinct())
                    .hasSize(3);
            endAll(streams);
        }
    }

    @Test
    void theServersStreamLimitIsRespected() throws Exception {
        HboneServerConfig server = HboneFixture.defaultServerConfig()
                .withHttp2(Http2Config.serverDefaults().withMaxConcurrentStreams(10));
        try (HboneFixture hbone = HboneFixture.start(loops, server, new StreamEcho(), PoolConfig.defaults())) {
            List<HboneStream> streams = openConcurrently(hbone, 25);

            assertThat(hbone.pool.stats().dials()).isEqualTo(3);
            endAll(streams);
        }
    }

    @Test
    void aFreedSlotIsReusedInsteadOfDialing() throws Exception {
        try (HboneFixture hbone = HboneFixture.start(loops, new StreamEcho())) {
            for (int i = 0; i < 5; i++) {
                endAll(List.of(Await.get(hbone.pool.connect(hbone.key(), ANYWHERE))));
            }
            assertThat(hbone.pool.stats().dials()).isEqualTo(1);
        }
    }

    @Test
    void anIdleConnectionIsEvictedAndTheNextCallerDialsAgain() throws Exception {
        PoolConfig quickIdle = PoolConfig.defaults().withIdleTimeout(Duration.ofMillis(200));
        try (HboneFixture hbone =
                HboneFixture.start(loops, HboneFixture.defaultServerConfig(), new StreamEcho(), quickIdle)) {
            HboneStream first = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            endAll(List.of(first));
            Await.get(first.channel().parent().closeFuture());
            assertThat(hbone.pool.connectionCount(hbone.key())).isZero();

            endAll(List.of(Await.get(hbone.pool.connect(hbone.key(), ANYWHERE))));
            assertThat(hbone.pool.stats().dials()).isEqualTo(2);
        }
    }

    @Test
    void anIdleConnectionWithAnOpenStreamClosesWhenTheStreamEnds() throws Exception {
        PoolConfig quickIdle = PoolConfig.defaults().withIdleTimeout(Duration.ofMillis(100));
        try (HboneFixture hbone =
                HboneFixture.start(loops, HboneFixture.defaultServerConfig(), new StreamEcho(), quickIdle)) {
            HboneStream longLived = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            Await.until(() -> hbone.pool.connectionCount(hbone.key()) == 0, "the idle connection left the pool");
            assertThat(longLived.channel().parent().isActive()).isTrue();

            endAll(List.of(longLived));
            Await.get(longLived.channel().parent().closeFuture());
        }
    }

    @Test
    void aServerWithAnUnexpectedIdentityFailsTheDial() throws Exception {
        try (HboneFixture hbone = HboneFixture.start(loops, new StreamEcho())) {
            PoolKey wrong = new PoolKey(Ids.CLIENT, Set.of(Ids.OTHER_SERVER), null, hbone.server.localAddress());
            Throwable failure = Await.failure(hbone.pool.connect(wrong, ANYWHERE));
            assertThat(failure).isInstanceOf(SSLException.class);
            assertThat(hbone.pool.stats().dialFailures()).isEqualTo(1);
        }
    }

    @Test
    void aFailedDialFailsEveryCallerWaitingForIt() throws Exception {
        try (HboneFixture hbone = HboneFixture.start(loops, new StreamEcho())) {
            PoolKey nowhere = new PoolKey(Ids.CLIENT, Set.of(Ids.SERVER), null, new InetSocketAddress("127.0.0.1", 1));
            List<CompletableFuture<HboneStream>> calls = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                calls.add(hbone.pool.connect(nowhere, ANYWHERE));
            }
            for (CompletableFuture<HboneStream> call : calls) {
                assertThat(Await.failure(call)).isInstanceOf(ConnectException.class);
            }
            assertThat(hbone.pool.stats().dials()).isEqualTo(1);
        }
    }

    @Test
    void connectionsAreKeyedBySourceAddress() throws Exception {
        UpstreamConnector handler = new UpstreamConnector(loops.transport, r -> new CompletableFuture<>());
        try (HboneFixture hbone = HboneFixture.start(loops, handler)) {
            InetAddress source = InetAddress.getByName("127.0.0.2");
            PoolKey fromTwo = new PoolKey(Ids.CLIENT, Set.of(Ids.SERVER), source, hbone.server.localAddress());
            hbone.pool.connect(fromTwo, ANYWHERE);
            hbone.pool.connect(hbone.key(), ANYWHERE);

            ConnectRequest a = handler.requests.take();
            ConnectRequest b = handler.requests.take();
            assertThat(List.of(a.remoteAddress().getAddress(), b.remoteAddress().getAddress()))
                    .contains(source);
            assertThat(hbone.pool.stats().dials()).isEqualTo(2);
        }
    }

    // --- helpers

    private static List<HboneStream> openConcurrently(HboneFixture hbone, int n) throws Exception {
        List<CompletableFuture<HboneStream>> calls = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            calls.add(hbone.pool.connect(hbone.key(), ANYWHERE));
        }
        List<HboneStream> streams = new ArrayList<>(n);
        for (CompletableFuture<HboneStream> call : calls) {
            streams.add(Await.get(call));
        }
        return streams;
    }

    /** Ends each stream from our side; the echo ends its side, so the streams close without resets. */
    private static void endAll(List<HboneStream> streams) throws Exception {
        for (HboneStream s : streams) {
            s.channel().writeAndFlush(HboneStreamCodec.END_STREAM);
        }
        for (HboneStream s : streams) {
            Await.get(s.channel().closeFuture());
        }
    }
}
