package io.ambit.waypoint.ingress;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * Tells HTTP/2 with prior knowledge (the connection preface {@code PRI * HTTP/2.0...}, as gRPC and
 * {@code curl --http2-prior-knowledge} send) from HTTP/1.1 by the first bytes of a tunnel, installs the
 * matching server and removes itself; the bytes it looked at go to the new handlers. It decides as soon as
 * the bytes diverge from the preface (one byte for any HTTP/1.1 method), so it never waits on a short
 * HTTP/1.1 request.
 */
public final class ProtocolDetector extends ByteToMessageDecoder {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Consumer<ChannelPipeline> http1;
    private final Consumer<ChannelPipeline> http2;

    /**
     * @param http1 adds the HTTP/1.1 handlers (after this one)
     * @param http2 adds the HTTP/2 handlers (after this one)
     */
    public ProtocolDetector(Consumer<ChannelPipeline> http1, Consumer<ChannelPipeline> http2) {
        this.http1 = http1;
        this.http2 = http2;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), PREFACE.length);
        int start = in.readerIndex();
        for (int i = 0; i < n; i++) {
            if (in.getByte(start + i) != PREFACE[i]) {
                switchTo(ctx, http1);
                return;
            }
        }
        if (n == PREFACE.length) {
            switchTo(ctx, http2);
        }
    }

    private void switchTo(ChannelHandlerContext ctx, Consumer<ChannelPipeline> installer) {
        // Installed after this handler; removing it hands them the bytes it holds.
        installer.accept(ctx.pipeline());
        ctx.pipeline().remove(this);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            ctx.close(); // the client ended the tunnel before saying anything we could serve
            return;
        }
        super.userEventTriggered(ctx, evt);
    }
}
