package io.ambit.waypoint.route;

import io.ambit.hbone.flow.ParkingFlowController;
import io.ambit.waypoint.ingress.TunnelCloser;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;

/**
 * An HTTP/1.1 connection to one endpoint, inside one HBONE tunnel (one CONNECT stream). It carries one
 * exchange at a time and goes back to its loop's idle list between them (keep-alive); an idle connection
 * closes after the idle timeout, or as soon as the upstream sends anything unasked or ends its side.
 */
final class H1Upstream extends ChannelDuplexHandler implements Upstream {
    private final Channel channel;
    private final LoopUpstreams owner;
    private final UpstreamKey key;
    private final long idleTimeoutNanos;
    private final Deadlines deadlines;
    private final Deadlines.Entry idleTimer = new Deadlines.Entry() {
        @Override
        protected void expired() {
            closeGracefully();
        }
    };
    private final ParkingFlowController flow; // of the HBONE connection carrying the tunnel; null if none
    private UpstreamListener listener;
    private boolean closing; // a close began: the tunnel may stay active a moment longer, but it serves no one

    H1Upstream(Channel channel, LoopUpstreams owner, UpstreamKey key, Duration idleTimeout, Deadlines deadlines) {
        this.channel = channel;
        this.owner = owner;
        this.key = key;
        this.idleTimeoutNanos = idleTimeout.toNanos();
        this.deadlines = deadlines;
        this.flow = channel.parent() == null ? null : ParkingFlowController.of(channel.parent());
    }

    UpstreamKey key() {
        return key;
    }

    /** Takes the connection out of the idle list for an exchange. */
    boolean checkout() {
        if (closing || !channel.isActive()) {
            return false;
        }
        if (flow != null && flow.congested()) {
            // Its HBONE connection's window is mostly held by other clients' stalled responses: a new exchange
            // there could stall behind them. Closed; the request gets a tunnel on a connection with room.
            closeGracefully();
            return false;
        }
        deadlines.cancel(idleTimer);
        return true;
    }

    @Override
    public void listen(UpstreamListener l) {
        this.listener = l;
    }

    @Override
    public void write(HttpObject part) {
        channel.writeAndFlush(part, channel.voidPromise());
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void reading(boolean on) {
        channel.config().setAutoRead(on);
    }

    @Override
    public void release(boolean reusable) {
        listener = null;
        channel.config().setAutoRead(true); // an idle connection must notice the upstream closing it
        if (reusable && channel.isActive()) {
            deadlines.arm(idleTimer, idleTimeoutNanos);
            owner.offerIdle(this);
        } else {
            closeAbruptly(); // the exchange did not end cleanly both ways: the app must not see a clean end
        }
    }

    @Override
    public void abort() {
        listener = null;
        closeAbruptly();
    }

    /**
     * A reset of the tunnel (the app's connection is reset too): for an exchange cut short, whose request or
     * response the app must not take for a complete one. Every other close (idle, surplus, the app ended its
     * side) is the graceful one: END_STREAM on the tunnel, a FIN to the app ({@code TunnelCloser}).
     */
    private void closeAbruptly() {
        closing = true;
        channel.attr(TunnelCloser.ABRUPT).set(true);
        channel.close();
    }

    /** Ends the tunnel after what was written (the app sees a FIN); out of the idle list at once. */
    void closeGracefully() {
        closing = true;
        owner.removeIdle(this);
        channel.close();
    }

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamListener l = listener;
        if (l != null && msg instanceof HttpObject part) {
            l.onResponse(part);
        } else {
            ReferenceCountUtil.release(msg);
            closeGracefully(); // a response nobody asked for: the connection cannot be trusted for another request
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null) {
            l.onUpstreamReadComplete();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null && ctx.channel().isWritable()) {
            l.onUpstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // The app (through the tunnel) ended its side; a response delimited by that end was completed
            // by the codec before this event. Nothing more can come: close.
            closeGracefully();
            return;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        deadlines.cancel(idleTimer);
        owner.removeIdle(this);
        UpstreamListener l = listener;
        listener = null;
        if (l != null) {
            l.onUpstreamClosed(null);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamListener l = listener;
        listener = null;
        closeAbruptly();
        if (l != null) {
            l.onUpstreamClosed(cause);
        }
    }
}
