package io.ambit.ztunnel.inpod.sys;

import io.netty.channel.Channel;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a captured connection was going (ztunnel-reference.md §1.3): {@code SO_ORIGINAL_DST} of the
 * accepted socket when a NAT {@code REDIRECT} sent it to us (outbound, 15001). Under TPROXY (inbound,
 * 15006 and 15008) there is no NAT entry and the socket's local address already is the original
 * destination, which is also what a caller should fall back to.
 */
public final class OriginalDestination {
    private static final Logger log = LoggerFactory.getLogger(OriginalDestination.class);

    private OriginalDestination() {}

    /**
     * The redirected destination of an accepted {@code channel}; empty when it was not redirected, when
     * the transport hides the descriptor (NIO), or when the lookup failed (logged at debug).
     */
    public static Optional<InetSocketAddress> of(Channel channel) {
        var fd = ChannelFd.of(channel);
        if (fd.isEmpty() || SocketOptions.unavailability().isPresent()) {
            return Optional.empty();
        }
        var local = (InetSocketAddress) channel.localAddress();
        boolean ipv6 = local != null && local.getAddress() instanceof Inet6Address v6 && !isV4Mapped(v6);
        try {
            return SocketOptions.originalDestination(fd.getAsInt(), ipv6);
        } catch (ErrnoException e) {
            log.debug("{}: no original destination: {}", channel, e.getMessage());
            return Optional.empty();
        }
    }

    /** The original destination, else the local address (what TPROXY keeps). */
    public static InetSocketAddress orLocal(Channel channel) {
        return of(channel).orElse((InetSocketAddress) channel.localAddress());
    }

    private static boolean isV4Mapped(Inet6Address a) {
        byte[] b = a.getAddress();
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }
}
