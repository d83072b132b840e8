package io.ambit.hbone.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;

/** Ways to end a connection that the normal {@link Channel#close()} path does not offer. */
public final class Channels {
    private Channels() {}

    /**
     * Closes the socket without the goodbyes of the handlers in its pipeline (no GOAWAY and graceful wait
     * from the HTTP/2 codec, no TLS close_notify). Handlers still see {@code channelInactive}, so child
     * streams and timers are cleaned up as usual.
     */
    public static ChannelFuture closeAbruptly(Channel channel) {
        ChannelHandlerContext first = channel.pipeline().firstContext();
        // close() on a context goes to the handlers before it, so from the first one it reaches the socket.
        return first == null ? channel.close() : first.close();
    }

    /**
     * Resets a TCP connection: SO_LINGER 0, then an abrupt close, so the peer sees RST rather than FIN.
     * Other channels are just closed abruptly.
     */
    public static ChannelFuture reset(Channel channel) {
        if (channel instanceof SocketChannel && channel.isOpen()) {
            try {
                channel.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException e) {
                // the socket may already be closing; a FIN instead of a RST is the worst outcome
            }
        }
        return closeAbruptly(channel);
    }
}
