package io.ambit.hbone.server;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.Relay;
import io.ambit.hbone.tls.TlsPeer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CONNECT stream on the server, read top to bottom: validate the request → ask the handler → answer
 * → relay (or hand over). Bytes arriving meanwhile stay in the {@code InboundHold} behind this handler.
 * All of it runs on the stream's event loop.
 */
final class ConnectStreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConnectStreamHandler.class);
    private static final AsciiString PROTOCOL = AsciiString.cached(":protocol");
    private static final Duration REJECT_LINGER = Duration.ofSeconds(5);

    private final ConnectHandler handler;
    private final HboneServerConfig config;
    private final ServerCounters counters;
    private final CompletableFuture<Void> streamClosed = new CompletableFuture<>();
    private boolean requested;
    private boolean decided;
    private ScheduledFuture<?> timeout;

    ConnectStreamHandler(ConnectHandler handler, HboneServerConfig config, ServerCounters counters) {
        this.handler = handler;
        this.config = config;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (requested || !(msg instanceof Http2HeadersFrame frame)) {
            ctx.fireChannelRead(msg); // tunnel bytes: to the hold
            return;
        }
        requested = true;
        try {
            onRequest(ctx, frame.headers());
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        streamClosed.complete(null);
        if (timeout != null) {
            timeout.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    // Phase 1: is this a well-formed HBONE CONNECT?
    private void onRequest(ChannelHandlerContext ctx, Http2Headers headers) {
        Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
        String malformed = malformed(headers);
        if (malformed != null) {
            refuseMalformed(ctx, malformed);
            return;
        }
        CharSequence method = headers.method();
        if (!AsciiString.contentEquals(method, "CONNECT")) {
            answer(ctx, ConnectResponse.reject(ConnectStatus.BAD_REQUEST, "method " + method + " is not CONNECT"));
            return;
        }
        Authority authority;
        try {
            authority = Authority.parse(headers.authority());
        } catch (IllegalArgumentException e) {
            answer(ctx, ConnectResponse.reject(ConnectStatus.BAD_REQUEST, e.getMessage()));
            return;
        }
        TlsPeer peer = TlsPeer.of(stream).orElse(null);
        if (peer == null) {
            answer(ctx, ConnectResponse.reject(ConnectStatus.SERVICE_UNAVAILABLE, "connection has no TLS peer"));
            return;
        }
        ConnectRequest request = ConnectRequest.of(
                peer, authority, headers, stream.parent(), stream.stream().id(), stream.eventLoop(), streamClosed);
        log.debug("{} CONNECT {} from {}", stream, authority, peer.identity());
        decide(ctx, request);
    }

    /**
     * Why a request is malformed in HTTP/2's terms (RFC 9113 §8.3.1 and §8.5), or null. A CONNECT carries
     * {@code :authority} and neither {@code :scheme} nor {@code :path}; {@code :protocol} is only defined once a server
     * enabled extended CONNECT (RFC 8441), which this one does not; any other request carries {@code :method},
     * {@code :scheme} and a non-empty {@code :path}. Netty's decoder has already refused unknown, duplicated,
     * misplaced and response pseudo-header fields, upper-case names and connection-specific fields.
     */
    static String malformed(Http2Headers headers) {
        for (Map.Entry<CharSequence, CharSequence> field : headers) {
            CharSequence value = field.getValue();
            int n = value.length();
            if (n > 0 && (spaceOrTab(value.charAt(0)) || spaceOrTab(value.charAt(n - 1)))) {
                // RFC 9113 §8.2.1; Netty refuses CR, LF, NUL and a leading space, not a trailing space or tab.
                return "field " + field.getKey() + " has leading or trailing whitespace";
            }
        }
        CharSequence method = headers.method();
        if (method == null) {
            return "no :method";
        }
        if (AsciiString.contentEquals(method, "CONNECT")) {
            if (headers.contains(PROTOCOL)) {
                return "CONNECT with :protocol (extended CONNECT is not enabled)";
            }
            if (headers.scheme() != null || headers.path() != null) {
                return "CONNECT with :scheme or :path (expected :authority only)";
            }
            if (headers.authority() == null) {
                return "CONNECT without :authority";
            }
            return null;
        }
        CharSequence path = headers.path();
        if (headers.scheme() == null || path == null || path.isEmpty()) {
            return method + " without :scheme or :path";
        }
        return null;
    }

    private static boolean spaceOrTab(char c) {
        return c == ' ' || c == '\t';
    }

    /**
     * A malformed request is a stream error PROTOCOL_ERROR (RFC 9113 §8.1.1), answered as the RFC allows: a 400
     * first, for clients that show statuses, then RST_STREAM(PROTOCOL_ERROR) — no linger, unlike a refusal of a
     * well-formed request: a conforming client never sends one, and its resets count against the client's budget.
     * Caught by the conformance cases connect/8.5-3 to 8.5-6 (a 400 and a stream held open).
     */
    private void refuseMalformed(ChannelHandlerContext ctx, String why) {
        decided = true;
        counters.rejected.increment();
        Channel stream = ctx.channel();
        log.debug("{} malformed request refused: {}", stream, why);
        Http2Headers headers = new DefaultHttp2Headers().status(Integer.toString(ConnectStatus.BAD_REQUEST.code()));
        stream.write(new DefaultHttp2HeadersFrame(headers, true));
        stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
    }

    // Phase 2: ask the handler, asynchronously and within the decision timeout.
    private void decide(ChannelHandlerContext ctx, ConnectRequest request) {
        timeout = ctx.executor()
                .schedule(
                        () -> answer(
                                ctx,
                                ConnectResponse.reject(
                                        ConnectStatus.SERVICE_UNAVAILABLE,
                                        "no decision within " + config.decisionTimeout())),
                        config.decisionTimeout().toNanos(),
                        TimeUnit.NANOSECONDS);
        Decision.ask(handler, request, ctx.executor(), r -> answer(ctx, r));
    }

    // Phase 3: answer, then relay or hand over. Late answers (after a timeout or a reset) are disposed of.
    private void answer(ChannelHandlerContext ctx, ConnectResponse response) {
        Channel stream = ctx.channel();
        if (decided || !stream.isActive()) {
            dispose(response);
            return;
        }
        decided = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        switch (response) {
            case ConnectResponse.Reject reject -> {
                counters.rejected.increment();
                log.debug("{} CONNECT refused {}: {}", stream, reject.status().code(), reject.reason());
                Http2Headers headers = new DefaultHttp2Headers()
                        .status(Integer.toString(reject.status().code()));
                stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true))
                        .addListener(f -> linger(stream));
            }
            case ConnectResponse.Tunnel tunnel -> {
                counters.accepted.increment();
                stream.writeAndFlush(new DefaultHttp2HeadersFrame(ok(tunnel.headers()), false));
                ctx.pipeline().remove(this);
                Relay.start(stream, tunnel.upstream(), tunnel.onComplete());
            }
            case ConnectResponse.Accept accept -> {
                counters.accepted.increment();
                stream.writeAndFlush(new DefaultHttp2HeadersFrame(ok(accept.headers()), false));
                ctx.pipeline().remove(this);
                accept.takeOver().accept((Http2StreamChannel) stream);
            }
        }
    }

    /**
     * After a refusal (our END_STREAM is out), give the client a moment to end its side, so the stream
     * closes without RST_STREAM on either side (resets count against both peers' rapid-reset budgets, and
     * a burst of denied connections should not cost the pooled connection). What it still sends is
     * dropped, never forwarded; a client that does not end its side is reset after {@link #REJECT_LINGER}.
     */
    private static void linger(Channel stream) {
        if (!stream.isActive()) {
            return;
        }
        ScheduledFuture<?> reset =
                stream.eventLoop().schedule(() -> stream.close(), REJECT_LINGER.toNanos(), TimeUnit.NANOSECONDS);
        stream.closeFuture().addListener(f -> reset.cancel(false));
        stream.pipeline().addLast(Discard.INSTANCE);
        InboundHold.release(stream.pipeline());
        stream.config().setAutoRead(true);
    }

    /** Drops whatever a refused stream still carries. */
    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter {
        static final Discard INSTANCE = new Discard();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            ReferenceCountUtil.release(evt);
        }
    }

    private static Http2Headers ok(Map<String, String> extra) {
        Http2Headers headers = new DefaultHttp2Headers().status("200");
        extra.forEach((k, v) -> headers.add(k.toLowerCase(Locale.ROOT), v));
        return headers;
    }

    private static void dispose(ConnectResponse response) {
        if (response instanceof ConnectResponse.Tunnel tunnel) {
            tunnel.upstream().close();
        }
    }
}
