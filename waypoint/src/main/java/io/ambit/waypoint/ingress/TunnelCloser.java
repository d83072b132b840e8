package io.ambit.waypoint.ingress;

import io.ambit.hbone.relay.HboneStreamCodec;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a tunnel the way TCP closes a connection: END_STREAM after what was written (a FIN), then the
 * stream once the client ended its side too, or after a short linger. A plain close of an HBONE stream is
 * a RST_STREAM, and the client's relay turns that into a TCP reset that can discard the last bytes we
 * sent — a GOAWAY naming the error, a 400 explaining a refusal, the answer to a client that half-closed
 * after its request. A close meant to be abrupt (a response cut short) is marked with {@link #ABRUPT} and
 * passes straight through.
 */
public final class TunnelCloser extends ChannelDuplexHandler {
    /** Set on the channel to make the next close a reset. */
    public static final AttributeKey<Boolean> ABRUPT = AttributeKey.valueOf(TunnelCloser.class, "abrupt");

    private static final long LINGER_MILLIS = 2000;

    private boolean inputEnded;
    private boolean ending;
    private ChannelPromise pending;
    private ScheduledFuture<?> linger;

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (ending
                || !ctx.channel().isActive()
                || Boolean.TRUE.equals(ctx.channel().attr(ABRUPT).get())) {
            if (linger != null) {
                linger.cancel(false);
            }
            ctx.close(promise);
            return;
        }
        if (inputEnded) {
            // The client ended its side already: end ours after what was written, and the stream is over
            // both ways. A plain close would be a RST_STREAM that can overtake the response to its request.
            ending = true;
            ctx.writeAndFlush(HboneStreamCodec.END_STREAM);
            ctx.close(promise);
            return;
        }
        ending = true;
        pending = promise;
        ctx.writeAndFlush(HboneStreamCodec.END_STREAM);
        linger = ctx.executor().schedule(() -> ctx.close(pending), LINGER_MILLIS, TimeUnit.MILLISECONDS);
        ctx.channel().config().setAutoRead(true); // to see the client's end
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (ending) {
            io.netty.util.ReferenceCountUtil.release(msg); // after our end nothing more is served
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputEnded = true;
            if (ending) {
                linger.cancel(false);
                ctx.close(pending);
                return;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }
}
