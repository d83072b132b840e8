package io.ambit.ztunnel.inpod;

import io.ambit.hbone.transport.Transport;
import io.ambit.ztunnel.inpod.sys.ChannelFd;
import io.ambit.ztunnel.inpod.sys.ErrnoException;
import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.sys.NetnsThread;
import io.ambit.ztunnel.inpod.sys.SocketOptions;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Every socket of one pod's proxy, created inside the pod's network namespace (ztunnel's
 * {@code InPodSocketFactory}): listeners (15001, 15006, 15008), HBONE connections to other nodes,
 * passthrough connections and connections to the pod's own app. Each carries {@code SO_MARK 0x539}, so
 * the pod's iptables rules let it through; listeners get {@code SO_REUSEPORT} and, where the kernel
 * permits, {@code IP_TRANSPARENT} (TPROXY delivers only to transparent listeners); connecting sockets
 * get {@code IP_TRANSPARENT} and {@code IP_FREEBIND} so the app connection can bind the client's IP.
 *
 * <p>Dual stack: where the kernel has IPv6, Netty's sockets are {@code AF_INET6}; listeners then get
 * {@code IPV6_V6ONLY} off, so one listener on {@code [::]} takes the pod's IPv4 and IPv6 connections (the
 * redirect script captures both families in a dual-stack pod), as Istio's ztunnel listens on both — also in a
 * pod whose {@code net.ipv6.bindv6only} is 1. Netty's native socket creation turns it off today; it is set here
 * again so that the capture does not rest on that detail of one transport.
 *
 * <p>Why Netty's own channel is built on the namespace thread rather than a raw descriptor adopted:
 * the kernel fixes a socket's namespace at {@code socket(2)}, so constructing the channel there (its
 * constructor makes the socket) is the same as making the descriptor there; and Netty's descriptor-
 * adopting constructors treat any descriptor with no pending error as already connected or listening
 * (an unconnected client would fire {@code channelActive} before connecting), while io_uring has none
 * at all. Options Netty has no {@code ChannelOption} for are set on the channel's descriptor right
 * after, still before Netty binds or connects it. This works the same for epoll and io_uring; NIO
 * hides descriptors and is refused for in-pod proxies.
 */
final class PodSockets {
    /** A channel is made in microseconds; a stuck namespace thread must not hold an event loop longer. */
    private static final Duration CREATE_TIMEOUT = Duration.ofSeconds(5);

    private final NetnsThread thread;
    private final NetnsFd netns;
    private final Transport base;
    private final boolean transparent;
    private final boolean ipv6;

    /**
     * Probes the namespace once: a listener socket is made there with every option, to learn whether
     * this process may set {@code IP_TRANSPARENT} in it.
     *
     * @throws Exception when the namespace cannot be entered or marked (no CAP_NET_ADMIN), naming why
     */
    PodSockets(NetnsThread thread, NetnsFd netns, Transport base) throws Exception {
        if (base.kind() == Transport.Kind.NIO) {
            throw new IllegalArgumentException("in-pod proxies need the epoll or io_uring transport (SO_MARK and"
                    + " SO_ORIGINAL_DST are set and read on socket descriptors, which NIO hides); this is nio");
        }
        this.thread = thread;
        this.netns = netns;
        this.base = base;
        ServerSocketChannel probe = create(() -> newInstance(base.serverChannelClass()), true);
        try {
            this.transparent = SocketOptions.transparent(fd(probe));
            this.ipv6 = SocketOptions.ipv6(fd(probe));
        } finally {
            probe.unsafe().closeForcibly();
        }
    }

    /** The base transport, creating its channels in the pod. */
    Transport transport() {
        return base.withChannelFactories(this::newServer, this::newClient);
    }

    /**
     * Whether sockets here may be transparent: listeners then take TPROXY'd connections and app
     * connections keep the client's IP. Without it ztunnel's capture cannot work inbound.
     */
    boolean transparent() {
        return transparent;
    }

    /**
     * Whether the sockets here are IPv6 ones that take both families: listeners then bind {@code [::]}
     * ({@code 0.0.0.0} would take IPv4 only). False when the kernel has no IPv6 (Netty then makes IPv4
     * sockets, and a pod can have no IPv6 traffic to capture).
     */
    boolean ipv6() {
        return ipv6;
    }

    NetnsFd netns() {
        return netns;
    }

    private ServerSocketChannel newServer() {
        try {
            return create(() -> newInstance(base.serverChannelClass()), true);
        } catch (Exception e) {
            throw new ChannelException("listener socket in " + netns + ": " + e.getMessage(), e);
        }
    }

    private SocketChannel newClient() {
        try {
            return create(() -> newInstance(base.socketChannelClass()), false);
        } catch (Exception e) {
            throw new ChannelException("socket in " + netns + ": " + e.getMessage(), e);
        }
    }

    private <C extends Channel> C create(Callable<C> constructor, boolean listener) throws Exception {
        return thread.call(
                netns,
                () -> {
                    C channel = constructor.call();
                    try {
                        int fd = fd(channel);
                        SocketOptions.setMark(fd, SocketOptions.ZTUNNEL_MARK);
                        if (listener) {
                            SocketOptions.setReusePort(fd);
                            if (SocketOptions.ipv6(fd)) {
                                SocketOptions.setDualStack(fd);
                            }
                            SocketOptions.trySetTransparent(fd);
                        } else if (SocketOptions.trySetTransparent(fd)) {
                            SocketOptions.trySetFreebind(fd);
                        }
                    } catch (ErrnoException | RuntimeException e) {
                        channel.unsafe().closeForcibly();
                        throw e;
                    }
                    return channel;
                },
                CREATE_TIMEOUT);
    }

    private static int fd(Channel channel) {
        return ChannelFd.of(channel)
                .orElseThrow(() -> new IllegalStateException(channel.getClass().getName() + " has no descriptor"));
    }

    private static <C> C newInstance(Class<? extends C> type) throws ReflectiveOperationException {
        return type.getConstructor().newInstance();
    }
}
