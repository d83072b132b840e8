package io.ambit.hbone.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The one transport chooser: epoll > io_uring > NIO, unless configuration or the system property says. */
final class TransportsTest {

    @Test
    void theBestAvailableTransportIsChosenByDefault() {
        Transport.Kind best = Arrays.stream(Transport.Kind.values())
                .filter(k -> Transports.unavailabilityCause(k).isEmpty())
                .findFirst()
                .orElseThrow();
        String saved = System.clearProperty(Transports.PROPERTY);
        try {
            assertThat(Transports.select().kind()).isEqualTo(best);
        } finally {
            restore(saved);
        }
    }

    @Test
    void theSystemPropertyOverridesTheDefaultAndConfigurationOverridesBoth() {
        String saved = System.setProperty(Transports.PROPERTY, "nio");
        try {
            assertThat(Transports.select().kind()).isEqualTo(Transport.Kind.NIO);
            Transport.Kind other =
                    Transports.unavailabilityCause(Transport.Kind.EPOLL).isEmpty()
                            ? Transport.Kind.EPOLL
                            : Transport.Kind.NIO;
            assertThat(Transports.select(Optional.of(other)).kind()).isEqualTo(other);
        } finally {
            restore(saved);
        }
    }

    @Test
    void eachTransportComesWithItsOwnChannelClasses() {
        Transport nio = Transports.of(Transport.Kind.NIO);
        assertThat(nio.serverChannelClass().getSimpleName()).isEqualTo("NioServerSocketChannel");
        assertThat(nio.socketChannelClass().getSimpleName()).isEqualTo("NioSocketChannel");
        if (Transports.unavailabilityCause(Transport.Kind.IO_URING).isEmpty()) {
            Transport uring = Transports.of(Transport.Kind.IO_URING);
            assertThat(uring.socketChannelClass().getSimpleName()).isEqualTo("IoUringSocketChannel");
            var group = uring.newEventLoopGroup(1, "probe");
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS)
                    .syncUninterruptibly();
        }
    }

    @ParameterizedTest(name = "\"{0}\" is {1}")
    @CsvSource({"io_uring, IO_URING", "EPOLL, EPOLL", "' nio ', NIO"})
    void namesParse(String name, Transport.Kind kind) {
        assertThat(Transport.Kind.parse(name)).isEqualTo(kind);
    }

    @Test
    void anUnknownNameSaysWhatIsExpected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Transport.Kind.parse("kqueue"))
                .withMessage("transport: \"kqueue\" (expected: io_uring, epoll or nio)");
    }

    @Test
    void http2SettingsAreValidatedWithTheExpectedRange() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Http2Config.clientDefaults().withMaxConcurrentStreams(0))
                .withMessage("maxConcurrentStreams: 0 (expected: > 0)");
        Http2Config server = Http2Config.serverDefaults();
        assertThat(server.initialStreamWindow()).isEqualTo(4 * 1024 * 1024);
        assertThat(server.connectionWindow()).isEqualTo(16 * 1024 * 1024);
        assertThat(server.maxFrameSize()).isEqualTo(1024 * 1024);
        assertThat(server.maxConcurrentStreams()).isEqualTo(200);
        assertThat(server.maxHeaderListSize()).isEqualTo(64 * 1024);
        assertThat(Http2Config.clientDefaults().maxConcurrentStreams()).isEqualTo(100);
    }

    private static void restore(String saved) {
        if (saved == null) {
            System.clearProperty(Transports.PROPERTY);
        } else {
            System.setProperty(Transports.PROPERTY, saved);
        }
    }
}
