package io.ambit.hbone.server;

import io.ambit.hbone.metrics.HboneMetrics;
import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.ReadAllocators;
import io.ambit.hbone.tls.PeerRevokedException;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsPeer;
import io.ambit.hbone.transport.Channels;
import io.ambit.hbone.transport.FlushGate;
import io.ambit.hbone.transport.Http2KeepAlive;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an accepted TLS connection into an HBONE one once the handshake is verified: the peer identity is
 * recorded on the channel, then HTTP/2 (frame codec, stream multiplexer, PING keep-alive) replaces this
 * handler. A refused handshake closes the connection; either way it is counted.
 */
final class ServerConnectionSetup extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ServerConnectionSetup.class);

    private final ServerTls tls;
    private final HboneServerConfig config;
    private final ConnectHandler handler;
    private final ServerCounters counters;
    private final HboneMetrics.Side meters;
    private final List<Object> early = new ArrayList<>(1);

    ServerConnectionSetup(
            ServerTls tls,
            HboneServerConfig config,
            ConnectHandler handler,
            ServerCounters counters,
            HboneMetrics.Side meters) {
        this.tls = tls;
        this.config = config;
        this.handler = handler;
        this.counters = counters;
        this.meters = meters;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (!(evt instanceof SslHandshakeCompletionEvent done)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        Channel channel = ctx.channel();
        if (!done.isSuccess()) {
            refused(done.cause());
            log.debug("{} TLS handshake failed: {}", channel, done.cause().toString());
            ctx.close();
            return;
        }
        TlsPeer peer;
        try {
            peer = tls.verifyPeer(ctx.pipeline().get(SslHandler.class));
        } catch (SSLException e) {
            refused(e);
            log.debug("{} TLS peer refused: {}", channel, e.getMessage());
            ctx.close();
            return;
        }
        counters.handshakes.increment();
        meters.handshake(peer.namedGroup(), true);
        meters.connectionOpened(channel);
        channel.attr(TlsPeer.ATTRIBUTE).set(peer);
        log.debug("{} HBONE connection from {}", channel, peer);

        ctx.pipeline()
                .addAfter(
                        FlushGate.addAfter(ctx.pipeline(), ctx.name()),
                        Channels.FLUSH_CONSOLIDATION,
                        Channels.flushConsolidation());
        ctx.pipeline()
                .addAfter(Channels.FLUSH_CONSOLIDATION, "h2", config.http2().newFrameCodec(true));
        ctx.pipeline()
                .addAfter(
                        "h2",
                        "h2-streams",
                        config.directStreams()
                                ? new DirectStreams(handler, config, counters, meters)
                                : new Http2MultiplexHandler(new StreamInitializer()));
        ctx.pipeline()
                .addAfter(
                        "h2-streams",
                        "h2-keepalive",
                        new Http2KeepAlive(
                                config.http2().pingInterval(), config.http2().pingTimeout()));
        ctx.pipeline().addAfter("h2-keepalive", "h2-tail", ConnectionTail.INSTANCE);
        ctx.pipeline().remove(this);
        config.http2().openConnectionWindow(channel);
    }

    private void refused(Throwable cause) {
        counters.handshakeFailures.increment();
        meters.handshake(null, false);
        if (PeerRevokedException.isCause(cause)) {
            meters.crlRejection();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        early.add(msg); // decrypted bytes that beat the handshake event; replayed into the codec
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        boolean any = !early.isEmpty();
        for (Object msg : early) {
            if (ctx.channel().isActive()) {
                ctx.fireChannelRead(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
        early.clear();
        if (any && ctx.channel().isActive()) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A failed handshake also arrives as its completion event, where it is counted; this is the same error.
        log.debug("{} TLS error: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    /** Sets up each CONNECT stream the client opens. */
    private final class StreamInitializer extends ChannelInitializer<Http2StreamChannel> {
        /** One for all the connection's streams (it is immutable): not one more object per open stream. */
        private final WriteBufferWaterMark waterMark = new WriteBufferWaterMark(
                config.http2().maxSendBuffer() / 2, config.http2().maxSendBuffer());

        @Override
        protected void initChannel(Http2StreamChannel stream) {
            stream.config().setWriteBufferWaterMark(waterMark);
            stream.config().setRecvByteBufAllocator(ReadAllocators.STREAM);
            counters.streamsOpen.increment();
            stream.closeFuture().addListener(f -> counters.streamsOpen.decrement());
            meters.streamOpened(stream);
            stream.pipeline()
                    .addLast("hbone-codec", HboneStreamCodec.INSTANCE)
                    .addLast("hbone-connect", new ConnectStreamHandler(handler, config, counters))
                    .addLast(InboundHold.NAME, new InboundHold(config.maxEarlyDataBytes()));
        }
    }
}
