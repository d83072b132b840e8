package io.ambit.hbone.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.Await;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * TCP keepalive on real sockets of each transport, connected and accepted, on 127.62.0.0/16: the values
 * the kernel reports back through the channel (getsockopt), and the timer {@code ss -tno} shows, which is
 * the kernel's own view (a keepalive timer of about the configured idle time, not its 2-hour default).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class SocketKeepaliveTest {
    private static final TcpKeepalive CUSTOM =
            new TcpKeepalive(true, Duration.ofSeconds(77), Duration.ofSeconds(17), 4);

    @ParameterizedTest
    @EnumSource(Transport.Kind.class)
    void connectedAndAcceptedSocketsCarryTheConfiguredTimers(Transport.Kind kind) throws Exception {
        Optional<Throwable> cause = Transports.unavailabilityCause(kind);
        Assumptions.assumeTrue(cause.isEmpty(), () -> kind + " is not available here: " + cause.get());
        Transport transport = Transports.of(kind).withKeepalive(CUSTOM);
        try (Pair pair = Pair.open(transport, "127.62.0.1")) {
            for (Channel c : List.of(pair.client, pair.accepted)) {
                assertThat(c.config().getOption(ChannelOption.SO_KEEPALIVE))
                        .as(kind + " " + c)
                        .isTrue();
                assertThat(readBack(kind, c)).as(kind + " " + c).containsExactly(77, 17, 4);
            }
            for (Channel c : List.of(pair.client, pair.accepted)) {
                String line = ssLine((InetSocketAddress) c.localAddress());
                Matcher m = KEEPALIVE_TIMER.matcher(line);
                assertThat(m.find())
                        .as("keepalive timer of " + c + " in: " + line)
                        .isTrue();
                // The timer counts down from the idle time: never above it, far below the kernel's 7200 s.
                assertThat(seconds(m)).as(line).isBetween(1L, 77L);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.Kind.class)
    void keepaliveCanBeTurnedOff(Transport.Kind kind) throws Exception {
        Optional<Throwable> cause = Transports.unavailabilityCause(kind);
        Assumptions.assumeTrue(cause.isEmpty(), () -> kind + " is not available here: " + cause.get());
        Transport transport = Transports.of(kind)
                .withKeepalive(new TcpKeepalive(false, Duration.ofSeconds(77), Duration.ofSeconds(17), 4));
        try (Pair pair = Pair.open(transport, "127.62.0.2")) {
            for (Channel c : List.of(pair.client, pair.accepted)) {
                assertThat(c.config().getOption(ChannelOption.SO_KEEPALIVE))
                        .as(kind + " " + c)
                        .isFalse();
            }
            for (Channel c : List.of(pair.client, pair.accepted)) {
                assertThat(ssLine((InetSocketAddress) c.localAddress())).doesNotContain("keepalive");
            }
        }
    }

    private static final Pattern KEEPALIVE_TIMER =
            Pattern.compile("timer:\\(keepalive,(?:(\\d+)min)?(?:(\\d+)sec)?(?:(\\d+)ms)?");

    /** The timer's remaining time in whole seconds, from ss's {@code 1min16sec} / {@code 59sec} / {@code 900ms}. */
    static long seconds(Matcher m) {
        long min = m.group(1) == null ? 0 : Long.parseLong(m.group(1));
        long sec = m.group(2) == null ? 0 : Long.parseLong(m.group(2));
        long ms = m.group(3) == null ? 0 : Long.parseLong(m.group(3));
        return min * 60 + sec + (ms > 0 ? 1 : 0);
    }

    /** The one established socket with local address {@code local}, as {@code ss -Htno} prints it. */
    static String ssLine(InetSocketAddress local) throws Exception {
        String ip = local.getAddress().getHostAddress();
        int port = local.getPort();
        Process p = new ProcessBuilder("ss", "-Htno", "state", "established", "src", ip + ":" + port)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("ss finished").isTrue();
        assertThat(p.exitValue()).as("ss exit: " + out).isZero();
        assertThat(out.lines().count())
                .as("one socket at " + ip + ":" + port + " in:\n" + out)
                .isEqualTo(1);
        return out;
    }

    static List<Integer> readBack(Transport.Kind kind, Channel c) {
        var config = c.config();
        return switch (kind) {
            case EPOLL ->
                List.of(
                        config.getOption(EpollChannelOption.TCP_KEEPIDLE),
                        config.getOption(EpollChannelOption.TCP_KEEPINTVL),
                        config.getOption(EpollChannelOption.TCP_KEEPCNT));
            case IO_URING ->
                List.of(
                        config.getOption(IoUringChannelOption.TCP_KEEPIDLE),
                        config.getOption(IoUringChannelOption.TCP_KEEPINTVL),
                        config.getOption(IoUringChannelOption.TCP_KEEPCNT));
            case NIO ->
                List.of(
                        config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE)),
                        config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL)),
                        config.getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT)));
        };
    }

    /** A listener and one connection to it, both configured by the transport under test. */
    private record Pair(EventLoopGroup group, Channel listener, Channel client, Channel accepted)
            implements AutoCloseable {
        static Pair open(Transport transport, String ip) throws Exception {
            EventLoopGroup group = transport.newEventLoopGroup(1, "keepalive-test");
            try {
                CompletableFuture<Channel> accepted = new CompletableFuture<>();
                Channel listener = transport
                        .configureChildren(new ServerBootstrap())
                        .group(group)
                        .channelFactory(transport.serverChannelFactory())
                        .childHandler(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
                                accepted.complete(ctx.channel());
                                ctx.fireChannelActive();
                            }
                        })
                        .bind(new InetSocketAddress(ip, 0))
                        .sync()
                        .channel();
                Channel client = transport
                        .configure(new Bootstrap())
                        .group(group)
                        .channelFactory(transport.socketChannelFactory())
                        .handler(noop())
                        // from the test's own range, not 127.0.0.1 (shared with parallel tests)
                        .connect(listener.localAddress(), new InetSocketAddress(ip, 0))
                        .sync()
                        .channel();
                return new Pair(group, listener, client, accepted.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            } catch (Exception | Error e) {
                group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            client.close().syncUninterruptibly();
            listener.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static ChannelHandler noop() {
        return new ChannelInboundHandlerAdapter();
    }
}
