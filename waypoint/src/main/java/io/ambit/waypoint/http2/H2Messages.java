package io.ambit.waypoint.http2;

import static io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * HTTP/2 frames to and from the HTTP message objects the exchange works with, the same objects Netty's
 * {@code Http2StreamFrameToHttpObjectCodec} made, so the exchange cannot tell the difference: HEADERS → a
 * request head (a full request when it ends the stream), trailers → a {@link LastHttpContent} with
 * trailing headers (gRPC); a response head → HEADERS, content → DATA, trailers → HEADERS with END_STREAM.
 */
final class H2Messages {
    private H2Messages() {}

    /** The request head of a stream's first HEADERS; a full request (no body) when it ends the stream. */
    static HttpRequest request(int streamId, Http2Headers headers, boolean endOfStream) throws Http2Exception {
        CharSequence method = headers.method();
        if (method == null) {
            throw Http2Exception.streamError(streamId, PROTOCOL_ERROR, "request without :method");
        }
        if (headers.path() == null && !HttpMethod.CONNECT.asciiName().contentEqualsIgnoreCase(method)) {
            throw Http2Exception.streamError(streamId, PROTOCOL_ERROR, "request without :path");
        }
        // The empty buffer rather than an allocated one: a request that ended with its HEADERS has no body.
        // No transfer-encoding is added to a head with a body: the exchange drops it for HTTP/2 anyway.
        return endOfStream
                ? HttpConversionUtil.toFullHttpRequest(streamId, headers, Unpooled.EMPTY_BUFFER, true)
                : HttpConversionUtil.toHttpRequest(streamId, headers, true);
    }

    /** The end of a request that sent trailers. */
    static LastHttpContent trailers(int streamId, Http2Headers headers) throws Http2Exception {
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, true);
        HttpConversionUtil.addHttp2ToHttpHeaders(
                streamId, headers, last.trailingHeaders(), HttpVersion.HTTP_1_1, true, true);
        return last;
    }

    /**
     * Writes one response part as frames (not flushed); takes ownership of {@code part}. Returns whether the
     * frames end the stream. A failure to convert (a header HTTP/2 cannot carry) is thrown after releasing.
     */
    static boolean write(Http2ConnectionEncoder encoder, ChannelHandlerContext ctx, int streamId, HttpObject part) {
        if (part instanceof HttpResponse response) {
            Http2Headers headers;
            try {
                headers = HttpConversionUtil.toHttp2Headers(response, true);
            } catch (RuntimeException e) {
                ReferenceCountUtil.release(part);
                throw e;
            }
            int code = response.status().code();
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL && code != 101) {
                // An interim response is a HEADERS frame of its own, never the end of the stream.
                encoder.writeHeaders(ctx, streamId, headers, 0, false, ctx.newPromise());
                ReferenceCountUtil.release(part);
                return false;
            }
            boolean ends = part instanceof FullHttpMessage full
                    && !full.content().isReadable()
                    && full.trailingHeaders().isEmpty();
            encoder.writeHeaders(ctx, streamId, headers, 0, ends, ctx.newPromise());
            if (ends) {
                ReferenceCountUtil.release(part);
                return true;
            }
        }
        if (part instanceof LastHttpContent last) {
            boolean noTrailers = last.trailingHeaders().isEmpty();
            Http2Headers trailers = null;
            if (!noTrailers) {
                try {
                    trailers = HttpConversionUtil.toHttp2Headers(last.trailingHeaders(), true);
                } catch (RuntimeException e) {
                    last.release();
                    throw e;
                }
            }
            // An empty end with no trailers still needs a frame to carry END_STREAM.
            boolean needsEmptyData = noTrailers && !(part instanceof FullHttpMessage);
            if (last.content().isReadable() || needsEmptyData) {
                encoder.writeData(ctx, streamId, last.content(), 0, noTrailers, ctx.newPromise());
            } else {
                last.release();
            }
            if (trailers != null) {
                encoder.writeHeaders(ctx, streamId, trailers, 0, true, ctx.newPromise());
            }
            return true;
        }
        if (part instanceof HttpContent content) {
            encoder.writeData(ctx, streamId, content.content(), 0, false, ctx.newPromise());
        }
        return false;
    }
}
