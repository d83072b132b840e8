package io.ambit.hbone.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import jdk.net.ExtendedSocketOptions;

/**
 * One Netty I/O transport (io_uring, epoll or NIO): how to make its event loops and which channel classes
 * go with them. Obtain instances from {@link Transports}; the channel classes of one transport only run
 * on that transport's event loops.
 */
public final class Transport {
    private final Kind kind;
    private final Supplier<IoHandlerFactory> ioHandlerFactory;
    private final Class<? extends ServerSocketChannel> serverChannelClass;
    private final Class<? extends SocketChannel> socketChannelClass;
    private final ChannelFactory<? extends ServerSocketChannel> serverChannelFactory;
    private final ChannelFactory<? extends SocketChannel> socketChannelFactory;
    private final TcpKeepalive keepalive;

    /** The transports Ambit knows, best first: the first available one is the default. */
    public enum Kind {
        EPOLL("epoll"),
        IO_URING("io_uring"),
        NIO("nio");

        private final String configName;

        Kind(String configName) {
            this.configName = configName;
        }

        /** The name used in configuration and in the {@value Transports#PROPERTY} system property. */
        public String configName() {
            return configName;
        }

        /**
         * Parses a configured transport name (case-insensitive).
         *
         * @throws IllegalArgumentException naming the value and what was expected
         */
        public static Kind parse(String name) {
            for (Kind kind : values()) {
                if (kind.configName.equalsIgnoreCase(name.strip())) {
                    return kind;
                }
            }
            throw new IllegalArgumentException("transport: \"" + name + "\" (expected: io_uring, epoll or nio)");
        }
    }

    Transport(
            Kind kind,
            Supplier<IoHandlerFactory> ioHandlerFactory,
            Class<? extends ServerSocketChannel> serverChannelClass,
            Class<? extends SocketChannel> socketChannelClass) {
        this(
                kind,
                ioHandlerFactory,
                serverChannelClass,
                socketChannelClass,
                new ReflectiveChannelFactory<>(serverChannelClass),
                new ReflectiveChannelFactory<>(socketChannelClass),
                TcpKeepalive.defaults());
    }

    private Transport(
            Kind kind,
            Supplier<IoHandlerFactory> ioHandlerFactory,
            Class<? extends ServerSocketChannel> serverChannelClass,
            Class<? extends SocketChannel> socketChannelClass,
            ChannelFactory<? extends ServerSocketChannel> serverChannelFactory,
            ChannelFactory<? extends SocketChannel> socketChannelFactory,
            TcpKeepalive keepalive) {
        this.kind = kind;
        this.ioHandlerFactory = ioHandlerFactory;
        this.serverChannelClass = serverChannelClass;
        this.socketChannelClass = socketChannelClass;
        this.serverChannelFactory = serverChannelFactory;
        this.socketChannelFactory = socketChannelFactory;
        this.keepalive = keepalive;
    }

    /**
     * This transport, with its channels made by the given factories rather than by their classes'
     * no-argument constructors: for sockets that must be created elsewhere (ztunnel's in-pod mode creates
     * them inside a pod's network namespace). The factories must make this transport's channel classes;
     * the event loops are the same.
     */
    public Transport withChannelFactories(
            ChannelFactory<? extends ServerSocketChannel> server, ChannelFactory<? extends SocketChannel> socket) {
        return new Transport(kind, ioHandlerFactory, serverChannelClass, socketChannelClass, server, socket, keepalive);
    }

    /** This transport, with connection sockets kept alive as {@code settings} say. */
    public Transport withKeepalive(TcpKeepalive settings) {
        return new Transport(
                kind,
                ioHandlerFactory,
                serverChannelClass,
                socketChannelClass,
                serverChannelFactory,
                socketChannelFactory,
                settings);
    }

    /** How the connection sockets of this transport are kept alive (ztunnel's 180 s / 180 s / 9 by default). */
    public TcpKeepalive keepalive() {
        return keepalive;
    }

    /**
     * Sets this transport's connection-socket options (keepalive with its idle time, interval and probe
     * count) on the sockets {@code bootstrap} connects.
     */
    public Bootstrap configure(Bootstrap bootstrap) {
        socketOptions().forEach((option, value) -> setOption(bootstrap, option, value));
        return bootstrap;
    }

    /** Sets this transport's connection-socket options on the sockets {@code bootstrap} accepts. */
    public ServerBootstrap configureChildren(ServerBootstrap bootstrap) {
        socketOptions().forEach((option, value) -> setChildOption(bootstrap, option, value));
        return bootstrap;
    }

    /**
     * The options {@link #configure} sets, as this transport's channels take them: the three keepalive
     * timers exist only as transport-specific options (epoll, io_uring) or as the JDK's extended socket
     * options (NIO); {@code SO_KEEPALIVE} alone would leave Linux's 2-hour default.
     */
    Map<ChannelOption<?>, Object> socketOptions() {
        Map<ChannelOption<?>, Object> options = new LinkedHashMap<>();
        options.put(ChannelOption.SO_KEEPALIVE, keepalive.enabled());
        if (!keepalive.enabled()) {
            return options;
        }
        switch (kind) {
            case EPOLL -> {
                options.put(EpollChannelOption.TCP_KEEPIDLE, keepalive.idleSeconds());
                options.put(EpollChannelOption.TCP_KEEPINTVL, keepalive.intervalSeconds());
                options.put(EpollChannelOption.TCP_KEEPCNT, keepalive.probes());
            }
            case IO_URING -> {
                options.put(IoUringChannelOption.TCP_KEEPIDLE, keepalive.idleSeconds());
                options.put(IoUringChannelOption.TCP_KEEPINTVL, keepalive.intervalSeconds());
                options.put(IoUringChannelOption.TCP_KEEPCNT, keepalive.probes());
            }
            case NIO -> {
                options.put(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), keepalive.idleSeconds());
                options.put(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), keepalive.intervalSeconds());
                options.put(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), keepalive.probes());
            }
        }
        return options;
    }

    @SuppressWarnings("unchecked")
    private static <T> void setOption(Bootstrap bootstrap, ChannelOption<T> option, Object value) {
        bootstrap.option(option, (T) value);
    }

    @SuppressWarnings("unchecked")
    private static <T> void setChildOption(ServerBootstrap bootstrap, ChannelOption<T> option, Object value) {
        bootstrap.childOption(option, (T) value);
    }

    /** Makes this transport's listening channels: use with {@code ServerBootstrap.channelFactory}. */
    public ChannelFactory<? extends ServerSocketChannel> serverChannelFactory() {
        return serverChannelFactory;
    }

    /** Makes this transport's connecting channels: use with {@code Bootstrap.channelFactory}. */
    public ChannelFactory<? extends SocketChannel> socketChannelFactory() {
        return socketChannelFactory;
    }

    public Kind kind() {
        return kind;
    }

    /**
     * A new event-loop group of this transport with daemon threads named {@code name-N}, each running with
     * the scheduling policy {@link ThreadScheduling#configured()} names (the kernel's default unless
     * {@value ThreadScheduling#PROPERTY} or {@value ThreadScheduling#ENV} says {@code batch}).
     *
     * @param threads the number of event loops; 0 means {@link Transports#defaultEventLoops()} (one per core
     *     unless configured)
     * @throws IllegalArgumentException when the scheduling setting is malformed, naming it
     */
    public EventLoopGroup newEventLoopGroup(int threads, String name) {
        return newEventLoopGroup(threads, name, ThreadScheduling.configured());
    }

    /** As {@link #newEventLoopGroup(int, String)}, with the event loops' scheduling policy given. */
    public EventLoopGroup newEventLoopGroup(int threads, String name, ThreadScheduling.Policy scheduling) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads: " + threads + " (expected: >= 0)");
        }
        return new MultiThreadIoEventLoopGroup(
                threads == 0 ? Transports.defaultEventLoops() : threads,
                ThreadScheduling.applying(scheduling, new DefaultThreadFactory(name, true)),
                ioHandlerFactory.get());
    }

    public Class<? extends ServerSocketChannel> serverChannelClass() {
        return serverChannelClass;
    }

    public Class<? extends SocketChannel> socketChannelClass() {
        return socketChannelClass;
    }

    @Override
    public String toString() {
        return kind.configName();
    }
}
