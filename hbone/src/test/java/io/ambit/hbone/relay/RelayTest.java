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
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
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

    static Stream<Transport.Kind> transportsButIoUring() {
        return transports().filter(k -> k != Transport.Kind.IO_URING);
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

    /**
     * The regression test for {@code EpollKeepRegistered}: on Netty 4.2.18's own epoll handler the
     * half-closed client socket left the epoll set, the relay's first write that had to wait failed, and
     * the client lost the tail of its answer.
     */
    @ParameterizedTest(name = "over {0}")
    @MethodSource("transports")
    void aHalfClosedSlowReaderStillGetsALargeAnswer(Transport.Kind kind) throws Exception {
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

    @ParameterizedTest(name = "over {0}")
    @MethodSource("transportsButIoUring")
    void aSlowReceiverStopsTheRelayReadingAndNothingIsLost(Transport.Kind kind) throws Exception {
        // Not io_uring: once in about ten runs this stalled there after the receiver resumed.
        try (TestLoops loops = TestLoops.start(Transports.of(kind));
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

    /**
     * The upstream answers and resets at once: the relay delivers the bytes before passing the reset on.
     * (The HBONE variant in {@code HboneRelayTest} is the one where bytes and reset share a read and the
     * abort used to discard the bytes unflushed.)
     */
    @ParameterizedTest(name = "over {0}")
    @MethodSource("transports")
    void bytesThatCameBeforeAResetAreDeliveredBeforeIt(Transport.Kind kind) throws Exception {
        assumeResetsAreReported(kind);
        try (TestLoops loops = TestLoops.start(Transports.of(kind));
                TcpServer recorder = TcpServer.start(loops, TcpServer.Mode.RECORD);
                Passthrough proxy = Passthrough.start(loops, recorder.address());
                Socket app = new Socket()) {
            app.connect(proxy.address(), 10_000);
            app.getOutputStream().write("hello".getBytes());
            Passthrough.Pair pair = proxy.pairs.take();
            Channel upstream = recorder.connections.take().channel();
            Await.until(() -> pair.relay().bytesAToB() == 5, "the request went through");
            byte[] lastWords = randomBytes(1000);
            // Reset once the relay has read the bytes: a reset that reaches the kernel before the relay read them
            // makes Linux drop them from the socket's receive queue (nothing any proxy can deliver), which on a
            // loaded machine happened here in about one run in ten. What is tested is the relay's part: bytes it
            // has read go out before the reset it passes on.
            upstream.writeAndFlush(Unpooled.wrappedBuffer(lastWords));
            Await.until(() -> pair.relay().bytesBToA() == lastWords.length, "the relay read the last words");
            Channels.reset(upstream);

            assertThat(readUntilTheEnd(app)).isEqualTo(lastWords);
            assertThat(Await.get(pair.relay().result()).outcome())
                    .isIn(RelayResult.Outcome.RESET, RelayResult.Outcome.ERROR);
        }
    }

    /** What a blocking socket reads until EOF or a reset (at most 16 MiB, each read within 10 s). */
    static byte[] readUntilTheEnd(Socket socket) throws IOException {
        socket.setSoTimeout(10_000);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[16 * 1024];
        InputStream in = socket.getInputStream();
        try {
            for (int n = in.read(buf); n >= 0 && got.size() < 16 * 1024 * 1024; n = in.read(buf)) {
                got.write(buf, 0, n);
            }
        } catch (SocketException e) {
            // the reset: everything sent before it has been read
        }
        return got.toByteArray();
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

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
