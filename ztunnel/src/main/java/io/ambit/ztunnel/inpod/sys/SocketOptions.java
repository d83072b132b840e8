package io.ambit.ztunnel.inpod.sys;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;

/**
 * Socket options Netty has no {@code ChannelOption} for ({@code SO_MARK}, {@code SO_ORIGINAL_DST}), and
 * the transparent-proxy ones set on descriptors Netty has not adopted yet, through {@link Libc}.
 */
public final class SocketOptions {
    /**
     * ztunnel's packet mark (1337): every socket ztunnel opens in a pod carries it, so the pod's iptables
     * rules let its packets through instead of capturing them again (ztunnel-reference.md §1.3).
     */
    public static final int ZTUNNEL_MARK = 0x539;

    private SocketOptions() {}

    /** Why these calls cannot be made here (not Linux, no libc), or empty. */
    public static Optional<String> unavailability() {
        return Libc.unavailability();
    }

    /** {@code SO_MARK}: needs CAP_NET_ADMIN (or CAP_NET_RAW) in the socket's network namespace. */
    public static void setMark(int fd, int mark) throws ErrnoException {
        Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_MARK, mark, "SO_MARK");
    }

    public static int mark(int fd) throws ErrnoException {
        return Libc.getsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_MARK, "SO_MARK");
    }

    /** {@code SO_REUSEPORT}, as ztunnel's in-pod listeners (INPOD_PORT_REUSE). */
    public static void setReusePort(int fd) throws ErrnoException {
        Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_REUSEPORT, 1, "SO_REUSEPORT");
    }

    public static void setReuseAddress(int fd) throws ErrnoException {
        Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1, "SO_REUSEADDR");
    }

    /**
     * {@code IP_TRANSPARENT} (and {@code IPV6_TRANSPARENT} on an IPv6 socket, as Netty's dual-stack
     * sockets are): a listener may then take TPROXY'd connections, a client may bind an address that is
     * not local (the original client's), for either family: the kernel keeps one flag for both options.
     *
     * @return false when the kernel refused it (no CAP_NET_ADMIN / CAP_NET_RAW): callers then run without
     *     source-IP preservation, as ztunnel's auto-detection does
     */
    public static boolean trySetTransparent(int fd) {
        try {
            Libc.setsockopt(fd, Libc.SOL_IP, Libc.IP_TRANSPARENT, 1, "IP_TRANSPARENT");
        } catch (ErrnoException e) {
            return false;
        }
        try {
            if (Libc.getsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_DOMAIN, "SO_DOMAIN") == Libc.AF_INET6) {
                Libc.setsockopt(fd, Libc.SOL_IPV6, Libc.IPV6_TRANSPARENT, 1, "IPV6_TRANSPARENT");
            }
        } catch (ErrnoException e) {
            // the same flag as IP_TRANSPARENT in the kernel (inet_sk's TRANSPARENT bit): set already
        }
        return true;
    }

    /**
     * Whether the socket is an IPv6 one ({@code AF_INET6}), as Netty makes them wherever the kernel has IPv6:
     * bound to {@code [::]} without {@code IPV6_V6ONLY} it takes IPv4 connections too (as IPv4-mapped
     * addresses, which Netty reports as IPv4).
     */
    public static boolean ipv6(int fd) throws ErrnoException {
        return Libc.getsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_DOMAIN, "SO_DOMAIN") == Libc.AF_INET6;
    }

    /**
     * {@code IPV6_V6ONLY} off: one listener on {@code [::]} for both families, whatever the namespace's
     * {@code net.ipv6.bindv6only} default says.
     */
    public static void setDualStack(int fd) throws ErrnoException {
        Libc.setsockopt(fd, Libc.SOL_IPV6, Libc.IPV6_V6ONLY, 0, "IPV6_V6ONLY");
    }

    public static boolean transparent(int fd) throws ErrnoException {
        return Libc.getsockoptInt(fd, Libc.SOL_IP, Libc.IP_TRANSPARENT, "IP_TRANSPARENT") != 0;
    }

    /** {@code IP_FREEBIND}: bind an address not (yet) on any interface. False when refused. */
    public static boolean trySetFreebind(int fd) {
        try {
            Libc.setsockopt(fd, Libc.SOL_IP, Libc.IP_FREEBIND, 1, "IP_FREEBIND");
            return true;
        } catch (ErrnoException e) {
            return false;
        }
    }

    /**
     * The destination a NAT {@code REDIRECT} rewrote: {@code SO_ORIGINAL_DST} (or
     * {@code IP6T_SO_ORIGINAL_DST} on an IPv6 socket). Empty when the connection was not redirected (the
     * kernel answers ENOENT: no conntrack NAT entry), e.g. a client that dialed the listener itself, or
     * one that TPROXY delivered with its destination intact.
     *
     * @throws ErrnoException for any other failure (not a TCP socket, a closed descriptor)
     */
    public static Optional<InetSocketAddress> originalDestination(int fd, boolean ipv6) throws ErrnoException {
        byte[] raw;
        try {
            raw = ipv6
                    ? Libc.getsockoptBytes(fd, Libc.SOL_IPV6, Libc.SO_ORIGINAL_DST, 28, "IP6T_SO_ORIGINAL_DST")
                    : Libc.getsockoptBytes(fd, Libc.SOL_IP, Libc.SO_ORIGINAL_DST, 16, "SO_ORIGINAL_DST");
        } catch (ErrnoException e) {
            if (e.errno() == Libc.ENOENT) {
                return Optional.empty();
            }
            throw e;
        }
        return Optional.of(parseSockaddr(raw));
    }

    /** A {@code sockaddr_in} or {@code sockaddr_in6} as the kernel wrote it. */
    static InetSocketAddress parseSockaddr(byte[] raw) {
        if (raw.length < 8) {
            throw new IllegalArgumentException("sockaddr of " + raw.length + " bytes (expected: >= 8)");
        }
        int family = (raw[0] & 0xff) | (raw[1] & 0xff) << 8; // sa_family_t is host order (little-endian)
        int port = (raw[2] & 0xff) << 8 | (raw[3] & 0xff); // network order
        try {
            if (family == Libc.AF_INET) {
                return new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOfRange(raw, 4, 8)), port);
            }
            if (family == Libc.AF_INET6 && raw.length >= 24) {
                var ip = Inet6Address.getByAddress(Arrays.copyOfRange(raw, 8, 24));
                return new InetSocketAddress(ip, port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // lengths checked above
        }
        throw new IllegalArgumentException("sockaddr family " + family + " (expected: AF_INET or AF_INET6)");
    }
}
