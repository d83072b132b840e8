package io.ambit.hbone.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.StreamEcho;
import io.ambit.hbone.testsupport.StreamIo;
import io.ambit.hbone.testsupport.TestLoops;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What HBONE servers and pools count, under which names and labels. */
@ExtendWith(NoLeaks.class)
final class HboneMetricsTest {
    private static final TunnelRequest ANYWHERE = TunnelRequest.to(Authority.parse("127.0.0.1:9"));
    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    private static TestLoops loops;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeAll
    static void startLoops() {
        loops = TestLoops.start();
    }

    @AfterAll
    static void stopLoops() {
        loops.close();
    }

    @Test
    void handshakesAreCountedByGroupAndOutcomeOnBothSides() throws Exception {
        try (HboneFixture hbone = start()) {
            HboneStream tunnel = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            assertThat(Await.get(StreamIo.exchange(tunnel, HELLO))).isEqualTo(HELLO);

            assertThat(handshakes("destination", "X25519MLKEM768", "success")).isEqualTo(1);
            assertThat(handshakes("source", "X25519MLKEM768", "success")).isEqualTo(1);

            PoolKey wrongServer = new PoolKey(Ids.CLIENT, Set.of(Ids.OTHER_SERVER), null, hbone.server.localAddress());
            Await.failure(hbone.pool.connect(wrongServer, ANYWHERE));
            assertThat(handshakes("source", "unknown", "failure")).isEqualTo(1);
            Await.until(
                    () -> handshakes("destination", "unknown", "failure") == 1,
                    "the server counted the handshake the client broke off");
        }
    }

    @Test
    void openConnectionsAndStreamsAreGaugedOnBothSides() throws Exception {
        try (HboneFixture hbone = start()) {
            HboneStream first = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            HboneStream second = Await.get(hbone.pool.connect(hbone.key(), ANYWHERE));
            StreamIo.Talk talk = StreamIo.talk(second);
            assertThat(Await.get(talk.roundTrip(HELLO))).isEqualTo(HELLO);

            assertThat(gauge(HboneMetrics.CONNECTIONS_OPEN, "source")).isEqualTo(1);
            assertThat(gauge(HboneMetrics.CONNECTIONS_OPEN, "destination")).isEqualTo(1);
            assertThat(gauge(HboneMetrics.STREAMS_OPEN, "source")).isEqualTo(2);
            assertThat(gauge(HboneMetrics.STREAMS_OPEN, "destination")).isEqualTo(2);

            assertThat(Await.get(StreamIo.exchange(first, HELLO))).isEqualTo(HELLO);
            Await.until(() -> gauge(HboneMetrics.STREAMS_OPEN, "destination") == 1, "the server's stream closed");
            Await.until(() -> gauge(HboneMetrics.STREAMS_OPEN, "source") == 1, "the pool's stream closed");

            hbone.pool.close();
            Await.get(talk.closed);
            Await.until(() -> gauge(HboneMetrics.CONNECTIONS_OPEN, "source") == 0, "the pool's connection closed");
            Await.until(() -> gauge(HboneMetrics.STREAMS_OPEN, "source") == 0, "the pool's stream closed");
            Await.until(() -> gauge(HboneMetrics.CONNECTIONS_OPEN, "destination") == 0, "the server's side closed");
            Await.until(() -> gauge(HboneMetrics.STREAMS_OPEN, "destination") == 0, "its stream closed");
        }
    }

    @Test
    void namesAreIstiosWhereIstioHasTheMetric() {
        HboneMetrics.of(registry);
        assertThat(registry.getMeters())
                .extracting(m -> m.getId().getName() + "{" + m.getId().getTag(HboneMetrics.REPORTER) + "}")
                .containsExactlyInAnyOrder(
                        "istio_crl_policy_rejections{destination}",
                        "istio_crl_policy_rejections{source}",
                        "ambit_hbone_connections_open{destination}",
                        "ambit_hbone_connections_open{source}",
                        "ambit_hbone_streams_open{destination}",
                        "ambit_hbone_streams_open{source}");
        assertThat(registry.getMeters())
                .filteredOn(m -> m.getId().getName().startsWith("istio_"))
                .extracting(m -> m.getId().getType())
                .containsOnly(Meter.Type.COUNTER);
        assertThat(List.of(HboneMetrics.CERT_EXPIRY, HboneMetrics.TLS_HANDSHAKES))
                .containsExactly("istio_cert_expiry_timestamp", "ambit_hbone_tls_handshakes");
    }

    // --- helpers

    private HboneFixture start() throws Exception {
        return HboneFixture.builder(loops, new StreamEcho())
                .metrics(HboneMetrics.of(registry))
                .start();
    }

    private double handshakes(String reporter, String group, String outcome) {
        var counter = registry.find(HboneMetrics.TLS_HANDSHAKES)
                .tags(HboneMetrics.REPORTER, reporter, HboneMetrics.GROUP, group, HboneMetrics.OUTCOME, outcome)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    private double gauge(String name, String reporter) {
        return registry.get(name).tag(HboneMetrics.REPORTER, reporter).gauge().value();
    }
}
