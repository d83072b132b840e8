package io.ambit.waypoint.http1;

import io.ambit.waypoint.ingress.Tunnel;
import io.ambit.waypoint.proxy.Downstream;
import io.ambit.waypoint.proxy.Exchange;
import io.ambit.waypoint.proxy.ProxyServices;
import io.ambit.waypoint.route.Deadlines;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * The HTTP/1.1 server of one tunnel: one request at a time, read on demand. Auto-read is off and a
 * {@link FlowControlHandler} hands over one decoded part per read, so a pipelined request waits in the
 * decoder until the exchange before it is done, and a request body is read only as fast as the upstream
 * takes it. A malformed head is answered 400 and the connection closed.
 *
 * <p>A client that half-closes (FIN, END_STREAM on the tunnel) after a complete request still gets its
 * answer, and the requests it pipelined before the FIN too; then the connection closes. A client that
 * half-closes before its request is complete can never finish it: the exchange ends at once as a
 * downstream termination ({@code DC}, upstream aborted, no ext_authz check waiting for the rest of the
 * body) and the connection closes, as Envoy does, instead of waiting for a timeout.
 *
 * <p>Slow clients (security case 42) meet two timers here: the head timer (a request head must be complete
 * within {@link Http1Limits#headersTimeout()} of the connection opening or the last response ending:
 * slowloris) and the body timer (a request body must keep arriving at {@link Http1Limits#bodyMinRate()}
 * after a grace of {@link Http1Limits#bodyTimeout()}: slow body). The body timer counts only the time this
 * connection was waiting for the client; while the exchange is not asking for more (the upstream or a
 * policy stage is slow) the client is not to blame, and the exchange's stream idle timeout covers that.
 */
public final class Http1Connection extends ChannelDuplexHandler implements Downstream {
    private final ProxyServices services;
    private final Tunnel tunnel;
    private final Http1Limits limits;
    private ChannelHandlerContext ctx;
    private ResponseEncoder encoder;
    private StrictRequestDecoder decoder;
    private Exchange exchange;
    private long requests; // heads handed to exchanges so far
    private boolean responseBegun; // a final response head of the current exchange was written
    private boolean inRead;
    private boolean readRequested;
    private boolean inputShutdown;
    private boolean closing;
    private boolean reading; // auto-read is on: waiting for the client
    private long bodyStart; // nanoTime the current request's body timer started
    private long bodyBytes; // body bytes of the current request handed to its exchange
    private long pausedNanos; // time of the current body spent not reading (not the client's fault)
    private long pausedSince; // nanoTime reading stopped, while the body timer runs and reading is off
    private Deadlines deadlines; // this loop's timeouts
    private final Deadlines.Entry headersTimer = new Deadlines.Entry() {
        @Override
        protected void expired() {
            if (exchange == null) {
                abort(); // no complete request head in time (slowloris)
            }
        }
    };
    private final Deadlines.Entry bodyTimer = new Deadlines.Entry() {
        @Override
        protected void expired() {
            bodyTimerExpired();
        }
    };

    private Http1Connection(ProxyServices services, Tunnel tunnel, Http1Limits limits) {
        this.services = services;
        this.tunnel = tunnel;
        this.limits = limits;
    }

    /** Adds the HTTP/1.1 server to the end of a tunnel's pipeline. */
    public static void install(ChannelPipeline pipeline, ProxyServices services, Tunnel tunnel, Http1Limits limits) {
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxInitialLineLength())
                .setMaxHeaderSize(limits.maxHeaderSize())
                .setMaxChunkSize(limits.maxChunkSize())
                .setValidateHeaders(true)
                .setStrictLineParsing(true);
        ResponseEncoder encoder = new ResponseEncoder();
        Http1Connection connection = new Http1Connection(services, tunnel, limits);
        connection.encoder = encoder;
        connection.decoder = new StrictRequestDecoder(decoder);
        pipeline.addLast("drop-empty", io.ambit.waypoint.ingress.EmptyWrites.DROP)
                .addLast("h1-decoder", connection.decoder)
                .addLast("h1-encoder", encoder)
                .addLast("h1-flow", new FlowControlHandler())
                .addLast("h1-server", connection);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.deadlines = services.upstreams().apply(ctx.channel().eventLoop()).deadlines();
        armHeadersTimer();
        setReading(true); // until the first request head
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // One part per request for more: reading stops here until the exchange asks again.
        setReading(false);
        inRead = true;
        try {
            dispatch(msg);
        } finally {
            inRead = false;
        }
        if (readRequested) {
            readRequested = false;
            setReading(true);
        }
    }

    private void dispatch(Object msg) {
        if (msg instanceof HttpRequest request) {
            cancelHeadersTimer();
            if (exchange != null || closing) {
                ReferenceCountUtil.release(msg); // cannot happen with one read per exchange; never serve two
                return;
            }
            encoder.answeringHead(request.method() == HttpMethod.HEAD);
            requests++;
            responseBegun = false;
            exchange = Exchange.of(this, services, tunnel, request, true);
            if (decoder.requestsEnded() < requests) {
                armBodyTimer(); // its body is still to come
            }
            exchange.start(); // may finish (and clear the field) before it returns
            if (request instanceof HttpContent) {
                return; // a full request (never from this decoder): nothing more to read for it
            }
        } else if (msg instanceof HttpContent part && exchange != null) {
            bodyBytes += part.content().readableBytes();
            if (decoder.requestsEnded() >= requests) {
                cancelBodyTimer(); // the client sent all of it
            }
            if (part.decoderResult().isFailure()) {
                exchange.onRequestMalformed(part); // Netty ends a broken body with a failed last part
            } else {
                exchange.onRequestPart(part);
            }
        } else {
            // The end of a body-less request answered before it was read: drop it, go on to the next head.
            ReferenceCountUtil.release(msg);
            if (!closing) {
                readRequested = true;
            }
        }
    }

    // ---- Downstream

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
        return "HTTP/1.1";
    }

    /**
     * Demand is signalled by auto-read, not by single {@code read()} calls: a single read on an HTTP/2
     * child channel (the tunnel) does not reliably hand flow-control credit back to the client, which then
     * stalls on a large body; with auto-read on, the {@link FlowControlHandler} delivers queued parts as
     * long as it stays on, and {@link #channelRead} turns it off again after each part.
     */
    @Override
    public void requestMore() {
        if (inRead) {
            readRequested = true; // after the current part is handled: no recursion through the queue
        } else {
            setReading(true);
        }
    }

    @Override
    public void write(HttpObject part) {
        noteResponse(part);
        ctx.writeAndFlush(part, ctx.voidPromise());
    }

    @Override
    public void writeLater(HttpObject part) {
        noteResponse(part);
        ctx.write(part, ctx.voidPromise());
    }

    private void noteResponse(HttpObject part) {
        if (part instanceof HttpResponse r && r.status().code() >= 200) {
            responseBegun = true; // not a 100 Continue: a cut after this is a broken response
        }
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
        return ctx.channel().isActive() && !closing;
    }

    @Override
    public void exchangeDone(boolean keepOpen) {
        exchange = null;
        cancelBodyTimer();
        // After the client's FIN, only requests it completed before it are still served.
        if (keepOpen && !closing && (!inputShutdown || decoder.requestsEnded() > requests)) {
            armHeadersTimer();
            requestMore();
        } else {
            closeGracefully();
        }
    }

    /**
     * A reset, not an end: the client cannot take a cut response for a whole one (no terminal chunk, fewer
     * bytes than content-length, and the connection reset rather than ended). What the exchange wrote before is
     * flushed first, so the client sees how far the response got (the status) before the reset.
     */
    @Override
    public void abort() {
        exchange = null;
        closing = true;
        cancelBodyTimer();
        ctx.flush();
        ctx.channel().attr(io.ambit.waypoint.ingress.TunnelCloser.ABRUPT).set(true);
        ctx.close();
    }

    /**
     * The client ended its side before the current request was complete: the request can never complete.
     * A response already under way is cut (a reset, so it cannot pass for a complete one); otherwise the
     * connection ends with our FIN and nothing more.
     */
    private void clientLeftMidRequest() {
        Exchange e = exchange;
        exchange = null;
        cancelHeadersTimer();
        cancelBodyTimer();
        e.onDownstreamClosed();
        if (responseBegun) {
            abort();
        } else {
            closeGracefully();
        }
    }

    /** Closes after the response: the tunnel's {@link io.ambit.waypoint.ingress.TunnelCloser} ends it cleanly. */
    private void closeGracefully() {
        if (closing) {
            return;
        }
        closing = true;
        cancelHeadersTimer();
        cancelBodyTimer();
        ctx.close();
    }

    // ---- events

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (exchange != null && ctx.channel().isWritable()) {
            exchange.onDownstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // The decoder has seen every byte the client sent (it decodes ahead of the exchange's demand).
            inputShutdown = true;
            if (exchange != null && decoder.requestsEnded() < requests) {
                clientLeftMidRequest();
            } else if (closing) {
                ctx.close();
            } else if (exchange == null) {
                closeGracefully(); // between requests (or mid-head, which no one can finish either)
            }
            return; // else: the request arrived whole; the exchange answers, then the connection closes
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelHeadersTimer();
        cancelBodyTimer();
        Exchange e = exchange;
        exchange = null;
        if (e != null) {
            e.onDownstreamClosed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void armHeadersTimer() {
        deadlines.arm(headersTimer, limits.headersTimeout().toNanos());
    }

    private void cancelHeadersTimer() {
        deadlines.cancel(headersTimer);
    }

    /** Turns reading on or off, keeping the body timer's account of the time spent not reading. */
    private void setReading(boolean on) {
        if (on == reading) {
            return;
        }
        reading = on;
        if (bodyTimer.armed()) {
            long now = System.nanoTime();
            if (on) {
                pausedNanos += now - pausedSince;
            } else {
                pausedSince = now;
            }
        }
        ctx.channel().config().setAutoRead(on);
    }

    private void armBodyTimer() {
        bodyStart = System.nanoTime();
        pausedSince = bodyStart;
        pausedNanos = 0;
        bodyBytes = 0;
        deadlines.arm(bodyTimer, limits.bodyTimeout().toNanos());
    }

    private void cancelBodyTimer() {
        if (deadlines != null) {
            deadlines.cancel(bodyTimer);
        }
    }

    /**
     * The body's time is up unless the bytes received since earned more, or part of the time was spent not
     * reading; then it runs again for what is left. Expired for real: 408 (or a reset, once the response
     * has begun) and the connection closes, since the rest of the body can no longer be told from a next
     * request.
     */
    private void bodyTimerExpired() {
        if (exchange == null || responseBegun || decoder.requestsEnded() >= requests) {
            return; // nothing left to wait for; a response under way has its own timeouts
        }
        long now = System.nanoTime();
        long paused = pausedNanos + (reading ? 0 : now - pausedSince);
        long used = now - bodyStart - paused;
        long allowed = limits.bodyTimeout().toNanos() + earnedNanos(bodyBytes, limits.bodyMinRate());
        if (used < allowed) {
            deadlines.arm(bodyTimer, allowed - used);
            return;
        }
        exchange.onRequestTimeout();
    }

    /** {@code bytes / rate} seconds in nanoseconds (none at rate 0), saturating instead of overflowing. */
    static long earnedNanos(long bytes, int rate) {
        if (rate == 0) {
            return 0;
        }
        long millis = bytes / rate * 1000 + bytes % rate * 1000 / rate;
        return millis > Long.MAX_VALUE / 1_000_000 ? Long.MAX_VALUE / 2 : millis * 1_000_000;
    }
}
