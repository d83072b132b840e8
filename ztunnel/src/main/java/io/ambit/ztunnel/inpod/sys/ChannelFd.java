package io.ambit.ztunnel.inpod.sys;

import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;
import java.util.OptionalInt;

/** The file descriptor under a Netty channel, where the transport has one (epoll, io_uring; not NIO). */
public final class ChannelFd {
    private ChannelFd() {}

    /** The descriptor of {@code channel}, or empty for a transport that hides it (NIO). */
    public static OptionalInt of(Channel channel) {
        if (channel instanceof UnixChannel unix) {
            return OptionalInt.of(unix.fd().intValue());
        }
        return OptionalInt.empty();
    }
}
