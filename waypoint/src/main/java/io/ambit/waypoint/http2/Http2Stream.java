package io.ambit.waypoint.http2;

import io.ambit.waypoint.ingress.Tunnel;
import io.ambit.waypoint.proxy.Downstream;
import io.ambit.waypoint.proxy.Exchange;
import io.ambit.waypoint.proxy.ProxyServices;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * One request stream of the HTTP/2 server: its parts arrive as HTTP objects, read on demand (auto-read off,
 * so an unread body holds the client by the stream's flow-control window).
 */
final class Http2Stream extends ChannelDuplexHandler implements Downstream {
    private final ProxyServices services;
    private final Tunnel tunnel;
    private ChannelHandlerContext ctx;
    private Exchange exchange;
    private boolean inRead;
    private boolean readRequested;

    Http2Stream(ProxyServices services, Tunnel tunnel) {
        this.services = services;
        this.tunnel = tunnel;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.channel().config().setAutoRead(true); // until the HEADERS
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // One part per request for more (see Http1Connection#requestMore for why auto-read, not read()).
        ctx.channel().config().setAutoRead(false);
        inRead = true;
        try {
            if (msg instanceof HttpRequest request && exchange == null) {
                exchange = Exchange.of(this, services, tunnel, request, false);
                exchange.start(); // may finish (and clear the field) before it returns
            } else if (msg instanceof HttpContent part && exchange != null) {
                exchange.onRequestPart(part);
            } else {
                ReferenceCountUtil.release(msg);
            }
        } finally {
            inRead = false;
        }
        if (readRequested) {
            readRequested = false;
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    @Override
    public ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    @Override
    public String protocol() {
        return "HTTP/2";
    }

    @Override
    public void requestMore() {
        if (inRead) {
            readRequested = true;
        } else {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void write(HttpObject part) {
        ctx.writeAndFlush(part, ctx.voidPromise());
    }

    @Override
    public void writeLater(HttpObject part) {
        ctx.write(part, ctx.voidPromise());
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    @Override
    public boolean isActive() {
        return ctx.channel().isActive();
    }

    @Override
    public void exchangeDone(boolean keepOpen) {
        exchange = null;
        if (!keepOpen) {
            ctx.close(); // answered before the request ended: reset what is left of it
        }
    }

    @Override
    public void abort() {
        exchange = null;
        ctx.close();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (exchange != null && ctx.channel().isWritable()) {
            exchange.onDownstreamWritable();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            abortExchange(); // the client cancelled
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        abortExchange();
    }

    private void abortExchange() {
        Exchange e = exchange;
        exchange = null;
        if (e != null) {
            e.onDownstreamClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
