package io.ambit.hbone.server;

import io.ambit.hbone.transport.Channels;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a server connection's pipeline: connection-level frames nobody else wants (SETTINGS, GOAWAY,
 * unknown frames) are released here, and an I/O error closes the connection after one debug line.
 */
@ChannelHandler.Sharable
final class ConnectionTail extends ChannelInboundHandlerAdapter {
    static final ConnectionTail INSTANCE = new ConnectionTail();
    private static final Logger log = LoggerFactory.getLogger(ConnectionTail.class);

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{} HBONE connection error: {}", ctx.channel(), cause.toString());
        // HTTP/2 errors are the codec's to answer (GOAWAY with the right code, then close); closing here
        // would race it with a graceful GOAWAY(NO_ERROR). Anything else (I/O errors) ends the connection.
        if (!(cause instanceof Http2Exception)) {
            Channels.closeAbruptly(ctx.channel());
        }
    }
}
