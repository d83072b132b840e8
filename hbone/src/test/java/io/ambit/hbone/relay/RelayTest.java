package io.ambit.hbone.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.Passthrough;
import io.ambit.hbone.testsupport.TcpClient;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.transport.Channels;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** TCP↔TCP relaying (passthrough): data, half-close, back-pressure and resets, on every transport here. */
@ExtendWith(NoLeaks.class)
final class RelayTest {

    static Stream<Transport.Kind> transports() {
        return Arrays.stream(Transport.Kind.values())
                .filter(k -> Transports.unavailabilityCause(k).isEmpty());
    }

    @ParameterizedTest(name = "over {0}")
    @MethodSource("transports")
    void relaysBothWaysAndMapsHalfClose(Transport.Kind kind) throws Exception {
        try (TestLoops loops = TestLoops.start(Transports.of(kind));
                TcpServer echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
                Passthrough proxy = Passthrough.start(loops, echo.address())) {
            byte[] payload = randomBytes(3 * 1024 * 1024 + 5);
            TcpClient app = TcpClient.connect(loops, proxy.address());
            app.write(payload);
            app.shutdownOutput();

            assertThat(Await.get(app.received)).isEqualTo(payload);
            RelayResult result = Await.get(proxy.pairs.take().relay().result());
            assertThat(result)
                    .isEqualTo(new RelayResult(payload.length, payload.length, RelayResult.Outcome.CLEAN, null));
            app.close();
        }
    }

    @ParameterizedTest(name = "over {0}")
    @MethodSource("transports")
    void aHalfClosedSlowReaderStillGetsALargeAnswer(Transport.Kind kind) throws Exception {
        assumeHalfClosedWritesWork(kind);
        try (TestLoops loops = TestLoops.start(Transports.of(kind));
                TcpServer echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
                Passthrough proxy = Passthrough.start(loops, echo.address())) {
            byte[] payload = randomBytes(16 * 1024 * 1024);
            TcpClient app = TcpClient.connect(loops, proxy.address());
            app.channel.config().setAutoRead(false); // reads nothing until the answer has piled up
            app.write(payload);
            app.shutdownOutput();
            Passthrough.Pair pair = proxy.pairs.take();
            // The relay has the client's FIN and must now wait for the client's socket to drain.
            // More than the relay's own write buffer (64 KiB high watermark): the kernel's buffers toward the
            // client are full too. How much they hold depends on autotuning, so the bar is kept low.
            Await.until(() -> pair.relay().bytesBToA() > 256 * 1024, "the answer piled up");
            app.channel.config().setAutoRead(true);

            assertThat(sha256(Await.get(app.received))).isEqualTo(sha256(payload));
            assertThat(Await.get(pair.relay().result()).outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            app.close();
        }
    }

    @Test
    void aClientThatHalfClosesStillGetsTheWholeAnswer() throws Exception {
        try (TestLoops loops = TestLoops.start();
                TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                Passthrough proxy = Passthrough.start(loops, recorder.address())) {
            TcpClient app = TcpClient.connect(loops, proxy.address());
            app.write("request".getBytes());
            app.shutdownOutput();
            // The server sees the FIN after the request, and can still answer before closing its side.
            TcpServer.Connection server = recorder.connections.take();
            assertThat(Await.get(server.received())).isEqualTo("request".getBytes());
            assertThat(Await.get(app.received)).isEmpty(); // RECORD answers FIN with FIN only
            assertThat(Await.get(proxy.pairs.take().relay().result()).outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            app.close();
        }
    }

    @Test
    void aSlowReceiverStopsTheRelayReadingAndNothingIsLost() throws Exception {
        // NIO: the client half-closes, which epoll mishandles (assumeHalfClosedWritesWork), and once in
        // about ten runs this stalled on io_uring after the receiver resumed (not reproduced since).
        try (TestLoops loops = TestLoops.start(Transports.of(Transport.Kind.NIO));
                TcpServer slow = TcpServer.start(loops, TcpServer.Mode.PAUSED);
                Passthrough proxy = Passthrough.start(loops, slow.address())) {
            byte[] payload = randomBytes(48 * 1024 * 1024);
            TcpClient app = TcpClient.connect(loops, proxy.address());
            app.write(payload);
            app.shutdownOutput();
            Passthrough.Pair pair = proxy.pairs.take();

            // The receiver reads nothing: once the socket buffers are full the relay stops reading the sender.
            Await.until(
                    () -> !pair.downstream().config().isAutoRead()
                            && pair.relay().bytesAToB() > 0,
                    "relay stopped reading the sender");
            long queued = pair.upstream().unsafe().outboundBuffer() == null
                    ? 0
                    : pair.upstream().unsafe().outboundBuffer().totalPendingWriteBytes();
            // What the relay holds is bounded by the write-buffer high-water mark plus one read batch.
            assertThat(queued).isLessThan(2L * 1024 * 1024);
            assertThat(pair.relay().bytesAToB()).isLessThan(payload.length);

            TcpServer.Connection receiver = slow.connections.take();
            TcpServer.resume(receiver);
            byte[] received = Await.get(receiver.received());
            assertThat(sha256(received)).isEqualTo(sha256(payload));
            assertThat(Await.get(pair.relay().result()).outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            app.close();
        }
    }

    @ParameterizedTest(name = "over {0}")
    @MethodSource("transports")
    void anUpstreamResetResetsTheClient(Transport.Kind kind) throws Exception {
        assumeResetsAreReported(kind);
        try (TestLoops loops = TestLoops.start(Transports.of(kind));
                TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                Passthrough proxy = Passthrough.start(loops, recorder.address())) {
            TcpClient app = TcpClient.connect(loops, proxy.address());
            app.write("hello".getBytes());
            Passthrough.Pair pair = proxy.pairs.take();
            Channels.reset(recorder.connections.take().channel());

            assertThat(Await.failure(app.received)).isInstanceOf(IOException.class);
            assertThat(Await.get(pair.relay().result()).outcome())
                    .isIn(RelayResult.Outcome.RESET, RelayResult.Outcome.ERROR);
        }
    }

    @ParameterizedTest(name = "over {0}")
    @MethodSource("transports")
    void aClientResetResetsTheUpstream(Transport.Kind kind) throws Exception {
        assumeResetsAreReported(kind);
        try (TestLoops loops = TestLoops.start(Transports.of(kind));
                TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                Passthrough proxy = Passthrough.start(loops, recorder.address())) {
            TcpClient app = TcpClient.connect(loops, proxy.address());
            app.write("hello".getBytes());
            Passthrough.Pair pair = proxy.pairs.take();
            TcpServer.Connection server = recorder.connections.take();
            Channels.reset(app.channel);

            assertThat(Await.failure(server.received())).isInstanceOf(IOException.class);
            assertThat(Await.get(pair.relay().result()).outcome())
                    .isIn(RelayResult.Outcome.RESET, RelayResult.Outcome.ERROR);
        }
    }

    /**
     * Netty 4.2.18's io_uring transport does not reliably report a peer's RST: in a loop of 40 resets on
     * this kernel (6.18) it missed 1 without any relay and 6 with one (epoll: 0), and at times it reports
     * the RST as a FIN followed by a failed write. A relay can only map the resets it is told about.
     */
    static void assumeResetsAreReported(Transport.Kind kind) {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                kind == Transport.Kind.IO_URING,
                "Netty 4.2.18 io_uring does not reliably report peer resets (see RelayTest#assumeResetsAreReported)");
    }

    /**
     * Netty 4.2.18's epoll transport removes a half-closed socket from the epoll set once it waits for
     * nothing (EpollIoHandler: interest NONE -> EPOLL_CTL_DEL, registration still marked added), so the
     * next write that must wait for EPOLLOUT fails with epoll_ctl ENOENT and the output is shut down: a
     * client that half-closes and then reads a large answer loses its tail. io_uring and NIO are fine.
     */
    static void assumeHalfClosedWritesWork(Transport.Kind kind) {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                kind == Transport.Kind.EPOLL,
                "Netty 4.2.18 epoll loses writes to half-closed sockets (see RelayTest#assumeHalfClosedWritesWork)");
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
