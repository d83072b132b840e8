package io.ambit.ztunnel.dns;

import io.ambit.hbone.transport.Transport;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.uring.IoUringDatagramChannel;

/** The UDP channel class of a transport (its event loops run only their own kind of channel). */
public final class DatagramChannels {
    private DatagramChannels() {}

    public static Class<? extends DatagramChannel> type(Transport transport) {
        return switch (transport.kind()) {
            case EPOLL -> EpollDatagramChannel.class;
            case IO_URING -> IoUringDatagramChannel.class;
            case NIO -> NioDatagramChannel.class;
        };
    }

    /** Makes the transport's UDP channels in this process's namespace. */
    public static ChannelFactory<? extends DatagramChannel> factory(Transport transport) {
        return new ReflectiveChannelFactory<>(type(transport));
    }
}
