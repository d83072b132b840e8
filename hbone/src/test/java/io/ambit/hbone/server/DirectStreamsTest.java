package io.ambit.hbone.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.TunnelRejectedException;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.RelayResult;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.Passthrough;
import io.ambit.hbone.testsupport.StreamIo;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server's CONNECT streams without child channels ({@link HboneServerConfig#directStreams()}): a tunnel relays
 * both ways and ends cleanly, with its byte counts; a handler's hand-over ({@code Accept}) is refused 503, which
 * also proves the mode is in use. The whole hbone suite runs in this mode too:
 * {@code -Dambit.jvm.flags="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * -Dambit.hbone.directStreams=true"}.
 */
@ExtendWith(NoLeaks.class)
final class DirectStreamsTest {
    private static TestLoops loops;
    private static TcpServer echo;

    @BeforeAll
    static void start() throws Exception {
        loops = TestLoops.start();
        echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
    }

    @AfterAll
    static void stop() {
        echo.close();
        loops.close();
    }

    private static HboneFixture direct(ConnectHandler handler) throws Exception {
        return HboneFixture.start(
                loops,
                HboneFixture.defaultServerConfig().withDirectStreams(true),
                handler,
                io.ambit.hbone.pool.PoolConfig.defaults());
    }

    /** Connects to the authority on the stream's loop and tunnels to it, reporting the relay's end. */
    private static ConnectHandler tunnelling(CompletableFuture<RelayResult> ended) {
        return request -> {
            CompletableFuture<ConnectResponse> answer = new CompletableFuture<>();
            new Bootstrap()
                    .group(request.eventLoop())
                    .channel(loops.transport.socketChannelClass())
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new InboundHold(64 * 1024))
                    .connect(request.authority().socketAddress().orElseThrow())
                    .addListener(f -> answer.complete(
                            f.isSuccess()
                                    ? ConnectResponse.tunnel(
                                            ((ChannelFuture) f).channel(), Map.of("x-direct", "1"), ended::complete)
                                    : ConnectResponse.reject(
                                            ConnectStatus.SERVICE_UNAVAILABLE,
                                            f.cause().toString())));
            return answer;
        };
    }

    @Test
    void aTunnelRelaysBothWaysAndEndsCleanlyWithItsByteCounts() throws Exception {
        CompletableFuture<RelayResult> ended = new CompletableFuture<>();
        try (HboneFixture hbone = direct(tunnelling(ended))) {
            HboneStream stream =
                    Await.get(hbone.pool.connect(hbone.key(), TunnelRequest.to(Authority.of(echo.address()))));
            assertThat(stream.responseHeaders().get("x-direct")).hasToString("1");
            byte[] sent = "hello through a direct stream".repeat(1000).getBytes(StandardCharsets.US_ASCII);

            byte[] back = Await.get(StreamIo.exchange(stream, sent));

            assertThat(back).isEqualTo(sent);
            RelayResult r = Await.get(ended);
            assertThat(r.outcome()).isEqualTo(RelayResult.Outcome.CLEAN);
            assertThat(r.aToB()).isEqualTo(sent.length);
            assertThat(r.bToA()).isEqualTo(sent.length);
            Await.until(() -> hbone.server.stats().streamsOpen() == 0, "the stream counted as closed");
            assertThat(hbone.server.stats().accepted()).isEqualTo(1);
        }
    }

    /**
     * A TLS error on the whole HBONE connection (the client's fatal alert after a forged record) ends the relays it
     * carries as ERROR in both modes: the child channels hear the error from Netty's multiplexer, direct streams from
     * FrameStreams, before the connection closes.
     */
    @ParameterizedTest(name = "direct streams: {0}")
    @ValueSource(booleans = {true, false})
    void aTlsErrorOnTheConnectionEndsItsRelaysAsError(boolean directStreams) throws Exception {
        CompletableFuture<RelayResult> ended = new CompletableFuture<>();
        try (HboneFixture hbone = HboneFixture.start(
                        loops,
                        HboneFixture.defaultServerConfig().withDirectStreams(directStreams),
                        tunnelling(ended),
                        io.ambit.hbone.pool.PoolConfig.defaults());
                Passthrough wire = Passthrough.start(loops, hbone.server.localAddress())) {
            PoolKey throughTheWire =
                    new PoolKey(hbone.key().source(), hbone.key().destinationIdentities(), null, wire.address());
            HboneStream stream =
                    Await.get(hbone.pool.connect(throughTheWire, TunnelRequest.to(Authority.of(echo.address()))));
            StreamIo.Talk talk = StreamIo.talk(stream);
            byte[] hello = "before the forged record".getBytes(StandardCharsets.US_ASCII);
            assertThat(Await.get(talk.roundTrip(hello))).isEqualTo(hello);
            Passthrough.Pair pair = wire.pairs.poll(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(pair).as("the proxied HBONE connection").isNotNull();

            // A whole TLS 1.3 application-data record of made-up bytes toward the client, between the server's records
            // (the tunnel is idle): the client's decryption fails and it sends the fatal alert bad_record_mac, which
            // the server's TLS reports as an error on the connection.
            byte[] forged = new byte[5 + 64];
            forged[0] = 0x17;
            forged[1] = 0x03;
            forged[2] = 0x03;
            forged[4] = 64;
            for (int i = 5; i < forged.length; i++) {
                forged[i] = (byte) (i * 31 + 7);
            }
            pair.downstream().writeAndFlush(Unpooled.wrappedBuffer(forged));

            RelayResult r = Await.get(ended);
            assertThat(r.outcome()).isEqualTo(RelayResult.Outcome.ERROR);
            assertThat(r.cause()).hasRootCauseInstanceOf(SSLException.class);
            assertThat(r.aToB()).isEqualTo(hello.length);
            Await.get(talk.closed);
        }
    }

    @Test
    void aHandOverIsRefused503OnAServerWithDirectStreams() throws Exception {
        ConnectHandler handingOver = request -> {
            CompletionStage<ConnectResponse> r =
                    CompletableFuture.completedFuture(ConnectResponse.accept(Map.of(), s -> s.close()));
            return r;
        };
        try (HboneFixture hbone = direct(handingOver)) {
            Throwable failure =
                    Await.failure(hbone.pool.connect(hbone.key(), TunnelRequest.to(Authority.of(echo.address()))));
            assertThat(failure).isInstanceOf(TunnelRejectedException.class);
            assertThat(((TunnelRejectedException) failure).status()).isEqualTo(503);
            assertThat(hbone.server.stats().rejected()).isEqualTo(1);
        }
    }
}
