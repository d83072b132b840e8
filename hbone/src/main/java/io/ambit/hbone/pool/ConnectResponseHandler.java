package io.ambit.hbone.pool;

import io.ambit.hbone.relay.HboneStreamCodec;
import io.ambit.hbone.tls.TlsPeer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Waits for the server's answer to our CONNECT: {@code 200} completes the tunnel and this handler leaves
 * the pipeline (bytes after it go to the hold behind); anything else fails with the status and closes the
 * stream. A stream the server never processed (GOAWAY below it, REFUSED_STREAM) fails retryably.
 */
final class ConnectResponseHandler extends ChannelInboundHandlerAdapter {
    private final String target;
    private final CompletableFuture<HboneStream> tunnel;
    private boolean refused;
    private long resetCode = -1;

    ConnectResponseHandler(String target, CompletableFuture<HboneStream> tunnel) {
        this.target = target;
        this.tunnel = tunnel;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2HeadersFrame frame)) {
            ReferenceCountUtil.release(msg); // no tunnel bytes before the answer
            return;
        }
        Http2Headers headers = frame.headers();
        CharSequence status = headers.status();
        if (status != null && status.length() == 3 && status.charAt(0) == '1') {
            return; // informational; the real answer follows
        }
        Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
        int code = parseStatus(status);
        if (code == 200) {
            ctx.pipeline().remove(this);
            TlsPeer peer = TlsPeer.of(stream).orElseThrow();
            if (!tunnel.complete(new HboneStream(stream, headers, peer))) {
                stream.close();
            }
        } else {
            tunnel.completeExceptionally(new TunnelRejectedException(code, target));
            if (frame.isEndStream()) {
                // End our side too, so the stream closes without a reset (resets count against the peer's
                // rapid-reset budget; refusals are normal traffic).
                stream.writeAndFlush(HboneStreamCodec.END_STREAM).addListener(f -> stream.close());
            } else {
                stream.close();
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame reset) {
            resetCode = reset.errorCode();
            refused |= resetCode == Http2Error.REFUSED_STREAM.code();
        } else if (evt instanceof Http2GoAwayFrame) {
            refused = true; // only streams above the GOAWAY's last id get it: never processed
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        String how = resetCode >= 0 ? " (RST_STREAM " + resetCode + ")" : "";
        tunnel.completeExceptionally(
                refused
                        ? new StreamRefusedException("HBONE server did not process CONNECT " + target + how)
                        : new IOException("HBONE stream closed before the answer to CONNECT " + target + how));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        tunnel.completeExceptionally(cause);
        ctx.close();
    }

    static int parseStatus(CharSequence status) {
        if (status == null || status.length() != 3) {
            return -1;
        }
        int code = 0;
        for (int i = 0; i < 3; i++) {
            char c = status.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            code = code * 10 + (c - '0');
        }
        return code;
    }
}
