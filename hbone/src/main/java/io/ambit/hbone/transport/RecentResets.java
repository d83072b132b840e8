package io.ambit.hbone.transport;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * Remembers the streams this side reset, and answers nothing to the frames the peer had already sent on
 * them: RFC 9113 §5.4.2 and §6.4 ("the sending endpoint MUST be prepared to receive and handle additional
 * frames sent on the stream that might have been sent by the peer prior to the arrival of the RST_STREAM").
 *
 * <p>Why: Netty forgets a stream once its RST_STREAM is written, and answers every later DATA frame for it
 * with RST_STREAM(STREAM_CLOSED). A tunnel reset while the peer was streaming (an app that resets its
 * socket at the end of an upload, as iperf3's server does) has up to a stream window of DATA in flight,
 * hundreds of frames: hundreds of RST_STREAMs, which trip the limit on RST_STREAMs we send (the MadeYouReset
 * defence, {@link Http2Config#maxRstFramesPerWindow()}) and end the whole connection with ENHANCE_YOUR_CALM,
 * killing every other tunnel on it. Those frames still count against, and are returned to, the connection's
 * flow-control window (Netty does that before it asks for the reset); only the answer is dropped.
 *
 * <p>Bounded: the last {@value #REMEMBERED} stream ids this side reset, allocated on the first reset. An id
 * that fell out is answered with RST_STREAM as before. Frames on streams closed any other way (both sides
 * ended) are still answered: a peer sending after its own END_STREAM is at fault. Event-loop confined.
 */
final class RecentResets extends DecoratingHttp2ConnectionEncoder {
    static final int REMEMBERED = 1024;

    private int[] ids; // a ring of stream ids; 0 is never a stream we reset
    private int next;

    RecentResets(Http2ConnectionEncoder delegate) {
        super(delegate);
    }

    @Override
    public ChannelFuture writeRstStream(
            ChannelHandlerContext ctx, int streamId, long errorCode, ChannelPromise promise) {
        Http2Stream stream = connection().stream(streamId);
        if (stream == null) {
            if (errorCode == Http2Error.STREAM_CLOSED.code() && remembers(streamId)) {
                promise.trySuccess();
                return promise;
            }
        } else if (!stream.isResetSent()) {
            remember(streamId);
        }
        return super.writeRstStream(ctx, streamId, errorCode, promise);
    }

    private boolean remembers(int streamId) {
        if (ids == null || streamId == 0) {
            return false;
        }
        for (int id : ids) {
            if (id == streamId) {
                return true;
            }
        }
        return false;
    }

    private void remember(int streamId) {
        if (ids == null) {
            ids = new int[REMEMBERED];
        }
        ids[next] = streamId;
        next = (next + 1) % REMEMBERED;
    }
}
