package io.ambit.bench.hbone;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.tunnel.TcpTunnelListener;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The harness relays bytes end to end (app → client side → HBONE → server side → echo target and back),
 * pooled and unpooled, and the latency and connection-rate clients complete through it. Behaviour only:
 * no timing is asserted.
 */
final class LoadHarnessTest {
    private static EchoServer echo;
    private static LoadHarness harness;

    @BeforeAll
    static void start() throws Exception {
        echo = EchoServer.start(0);
        harness = LoadHarness.start(new LoadHarness.Options(List.of(echo.port()), true, 1, Duration.ofMinutes(5)));
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        echo.close();
    }

    @ParameterizedTest(name = "pooled={0}")
    @ValueSource(booleans = {true, false})
    void aMegabyteComesBackAsSent(boolean pooled) throws Exception {
        TcpTunnelListener listener = harness.listener(echo.port(), pooled);
        byte[] payload = new byte[1024 * 1024 + 7];
        new Random(42).nextBytes(payload);
        try (Socket socket =
                new Socket(InetAddress.getLoopbackAddress(), listener.address().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            // Write while reading: the echo would otherwise fill both directions' buffers and stall.
            CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                try {
                    out.write(payload);
                    out.flush();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            InputStream in = socket.getInputStream();
            byte[] received = in.readNBytes(payload.length);
            written.get();
            assertThat(received).isEqualTo(payload);
        }
        assertThat(listener.tunnels.sum()).isPositive();
        assertThat(listener.failures.sum()).isZero();
        assertThat(listener.firstPeer.get()).contains("X25519MLKEM768").contains(BenchPki.SERVER.toString());
    }

    @ParameterizedTest(name = "pooled={0}")
    @ValueSource(booleans = {true, false})
    void theLoadClientsCompleteThroughTheHarness(boolean pooled) throws Exception {
        int port = harness.listener(echo.port(), pooled).address().getPort();

        Percentiles latency =
                LatencyClient.measure(port, 200, 20, 64, Duration.ofSeconds(10).toNanos());
        ConnectionRateClient.Result rate =
                ConnectionRateClient.measure(port, Duration.ofMillis(500).toNanos(), 2, 200, 10);

        assertThat(latency.count()).isEqualTo(200);
        assertThat(rate.connections()).isPositive();
        assertThat(rate.errors()).isZero();
    }
}
