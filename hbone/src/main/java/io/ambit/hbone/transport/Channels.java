package io.ambit.hbone.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;

/** Ways to end a connection that the normal {@link Channel#close()} path does not offer; shared handlers. */
public final class Channels {
    /** The pipeline name of {@link #flushConsolidation()} on an HBONE connection, between TLS and HTTP/2. */
    public static final String FLUSH_CONSOLIDATION = "h2-flush";

    private Channels() {}

    /**
     * A handler that turns the flushes issued while a read is being handled into one, at the end of the
     * read: between TLS and HTTP/2, one TLS record write per read instead of one per flush (the HTTP/2
     * codec flushes at the end of each frame batch, and every stream whose data was read flushes the
     * connection again, each an {@code SslHandler} wrap of nothing). Flushes outside a read pass at once,
     * so no write waits for more than the read that is in progress.
     */
    public static ChannelHandler flushConsolidation() {
        return new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, false);
    }

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
