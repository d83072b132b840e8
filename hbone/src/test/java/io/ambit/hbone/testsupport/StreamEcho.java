package io.ambit.hbone.testsupport;

import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.server.ConnectResponse;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A handler that accepts every CONNECT and echoes on the stream itself (no upstream socket): cheap enough
 * for a thousand streams. Ends its side when the client ends its side.
 */
public final class StreamEcho implements ConnectHandler {
    public final AtomicInteger calls = new AtomicInteger();

    @Override
    public CompletionStage<ConnectResponse> onConnect(ConnectRequest request) {
        calls.incrementAndGet();
        return CompletableFuture.completedFuture(ConnectResponse.accept(Map.of(), stream -> {
            stream.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.write(msg);
                }

                @Override
                public void channelReadComplete(ChannelHandlerContext ctx) {
                    ctx.flush();
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt == ChannelInputShutdownEvent.INSTANCE) {
                        ctx.writeAndFlush(HboneStreamCodec.END_STREAM);
                    }
                    ReferenceCountUtil.release(evt);
                }
            });
            InboundHold.release(stream.pipeline());
            stream.config().setAutoRead(true);
        }));
    }
}
