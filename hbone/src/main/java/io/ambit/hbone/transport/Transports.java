package io.ambit.hbone.transport;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that chooses the I/O transport: epoll where the kernel allows it, else io_uring, else NIO.
 * An explicit choice (configuration first, then the {@value #PROPERTY} system property) overrides the
 * automatic one and fails loudly when that transport cannot run here.
 *
 * <p>Why epoll first: a ztunnel relaying small requests spent about 10 % less CPU per request on epoll
 * than on io_uring in every measured round (bench/README.md, section "ztunnel"), and Netty 4.2.18's
 * io_uring does not reliably report a peer's TCP reset (a few percent missed on kernel 6.18, see
 * {@code RelayTest}), which leaves such relays open until they next write. Netty 4.2.18's epoll has one
 * known flaw, corrected here by {@link EpollKeepRegistered}: a socket waiting for nothing (typically
 * half-closed) was dropped from the epoll set, so a later write that had to wait failed. When io_uring is
 * chosen, this class turns its multishot polls off (see the static initializer), which makes it report
 * resets reliably.
 *
 * <p>Every transport made here keeps its connection sockets alive as ztunnel does, with ztunnel's
 * {@code KEEPALIVE_*} environment overrides read at that moment ({@link TcpKeepalive#fromEnvironment}); a
 * malformed override fails {@link #select} and {@link #of} with the variable named.
 */
public final class Transports {
    /** System property naming the transport: {@code epoll}, {@code io_uring} or {@code nio}. */
    public static final String PROPERTY = "ambit.transport";

    /** System property: the number of event loops of a group made with 0 threads ({@code > 0}). */
    public static final String EVENT_LOOPS_PROPERTY = "ambit.eventLoops";

    private static final Logger log = LoggerFactory.getLogger(Transports.class);

    /** Netty's switch for io_uring's multishot POLL_ADD; this class turns it off unless it is set. */
    static final String IO_URING_MULTISHOT_POLL = "io.netty.iouring.pollAddMultishotEnabled";

    static {
        // Netty 4.2.18's io_uring waits for a readable socket with a multishot (edge-triggered) POLL_ADD.
        // A peer's RST that arrives with its last bytes raises no new edge once those bytes are read, so no
        // read ever follows and the reset is never reported: the relay stays open, and the other side keeps
        // waiting (a waypoint for a body that will never come). Measured through the waypoint's
        // RequestBodyCheckTest hop: 4 of 40 and 5 of 25 resets missed; with single-shot polls (re-armed after
        // each read) 0 of 40. Set before IoUring's class initializer reads it (it is read once); a value the
        // user set wins.
        if (System.getProperty(IO_URING_MULTISHOT_POLL) == null) {
            System.setProperty(IO_URING_MULTISHOT_POLL, "false");
        }
    }

    private Transports() {}

    /**
     * The number of event loops of a group asked for with 0 threads: {@value #EVENT_LOOPS_PROPERTY} when set,
     * else Netty's {@code io.netty.eventLoopThreads} when set, else one per core. Not Netty's default of two
     * per core: a proxy's loops do only non-blocking work, and a second loop per core only adds hand-overs
     * between threads and wake-ups (measured in bench/README.md, section "ztunnel").
     *
     * @throws IllegalArgumentException when a property is set to anything but a positive number, naming it
     */
    public static int defaultEventLoops() {
        for (String property : new String[] {EVENT_LOOPS_PROPERTY, "io.netty.eventLoopThreads"}) {
            String value = System.getProperty(property);
            if (value != null && !value.isBlank()) {
                int n;
                try {
                    n = Integer.parseInt(value.strip());
                } catch (NumberFormatException e) {
                    n = -1;
                }
                if (n <= 0) {
                    throw new IllegalArgumentException(property + ": \"" + value + "\" (expected: a number > 0)");
                }
                return n;
            }
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** The transport named by {@value #PROPERTY}, or else the best one available. */
    public static Transport select() {
        return select(Optional.empty());
    }

    /**
     * The configured transport if there is one, else the one named by {@value #PROPERTY}, else the best
     * available.
     *
     * @throws IllegalStateException when the explicitly chosen transport is not available, with the cause
     */
    public static Transport select(Optional<Transport.Kind> configured) {
        Optional<Transport.Kind> explicit = configured.or(() -> Optional.ofNullable(System.getProperty(PROPERTY))
                .filter(s -> !s.isBlank())
                .map(Transport.Kind::parse));
        if (explicit.isPresent()) {
            return of(explicit.get());
        }
        for (Transport.Kind kind : Transport.Kind.values()) {
            if (unavailabilityCause(kind).isEmpty()) {
                Transport transport = create(kind);
                log.debug("transport {} chosen", transport);
                return transport;
            }
        }
        throw new AssertionError("NIO is always available");
    }

    /**
     * The given transport.
     *
     * @throws IllegalStateException when it is not available here, with the reason as cause
     */
    public static Transport of(Transport.Kind kind) {
        Optional<Throwable> cause = unavailabilityCause(kind);
        if (cause.isPresent()) {
            throw new IllegalStateException(
                    "transport " + kind.configName() + " is not available here: " + cause.get(), cause.get());
        }
        return create(kind);
    }

    /** Why the transport cannot run here, or empty when it can. */
    public static Optional<Throwable> unavailabilityCause(Transport.Kind kind) {
        return switch (kind) {
            case IO_URING -> IoUring.isAvailable() ? Optional.empty() : Optional.of(IoUring.unavailabilityCause());
            case EPOLL -> Epoll.isAvailable() ? Optional.empty() : Optional.of(Epoll.unavailabilityCause());
            case NIO -> Optional.empty();
        };
    }

    private static Transport create(Transport.Kind kind) {
        return bare(kind).withKeepalive(TcpKeepalive.fromEnvironment(System.getenv()));
    }

    private static Transport bare(Transport.Kind kind) {
        return switch (kind) {
            case IO_URING ->
                new Transport(
                        kind,
                        IoUringIoHandler::newFactory,
                        IoUringServerSocketChannel.class,
                        IoUringSocketChannel.class);
            case EPOLL ->
                new Transport(
                        kind,
                        EpollKeepRegistered::newFactory,
                        EpollServerSocketChannel.class,
                        EpollSocketChannel.class);
            case NIO ->
                new Transport(kind, NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class);
        };
    }
}
