package io.ambit.waypoint.http2;

import static io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;

/**
 * HTTP/2 frames to and from the HTTP message objects the exchange works with, the same objects Netty's
 * {@code Http2StreamFrameToHttpObjectCodec} made, so the exchange cannot tell the difference: HEADERS → a
 * request head (a full request when it ends the stream), trailers → a {@link LastHttpContent} with
 * trailing headers (gRPC); a response head → HEADERS, content → DATA, trailers → HEADERS with END_STREAM.
 */
final class H2Messages {
    private static final AsciiString X_HTTP2 = AsciiString.cached("x-http2-");

    private H2Messages() {}

    /**
     * The request head of a stream's first HEADERS; a full request (no body) when it ends the stream. One pass
     * over the fields, no second validation (see {@link DecodedHeaders}); what it makes is what Netty's
     * {@code HttpConversionUtil.toHttpRequest} made, less the {@code x-http2-scheme} and
     * {@code x-http2-stream-id} extension headers, which nothing reads (they were stripped before the upstream,
     * but the policy, the JWT stage and ext_authz saw them as if the client had sent them).
     */
    static HttpRequest request(int streamId, Http2Headers headers, boolean endOfStream) throws Http2Exception {
        CharSequence method = headers.method();
        if (method == null) {
            throw Http2Exception.streamError(streamId, PROTOCOL_ERROR, "request without :method");
        }
        boolean connect = HttpMethod.CONNECT.asciiName().contentEqualsIgnoreCase(method);
        CharSequence target = connect ? headers.authority() : headers.path();
        if (target == null) {
            throw Http2Exception.streamError(
                    streamId, PROTOCOL_ERROR, connect ? "CONNECT without :authority" : "request without :path");
        }
        DecodedHeaders fields = DecodedHeaders.create(headers.size() + 4);
        copyRequestFields(streamId, headers, fields);
        HttpMethod m = HttpMethod.valueOf(method.toString());
        // The request line is validated by the constructors, as Netty's conversion had it validated.
        // The empty buffer rather than an allocated one: a request that ended with its HEADERS has no body; its
        // (absent) trailers are the immutable empty headers. No transfer-encoding is added to a head with a body:
        // the exchange drops it for HTTP/2 anyway.
        return endOfStream
                ? new DefaultFullHttpRequest(
                        HttpVersion.HTTP_1_1,
                        m,
                        target.toString(),
                        Unpooled.EMPTY_BUFFER,
                        fields,
                        EmptyHttpHeaders.INSTANCE)
                : new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, target.toString(), fields);
    }

    /**
     * The request's regular fields as HTTP/1.1 fields: {@code :authority} becomes {@code Host} (a literal
     * {@code host} must agree with it: RFC 9113 §8.3.1), cookie crumbs are joined into one {@code cookie}
     * (RFC 9113 §8.2.3), {@code trailer} and Netty's {@code x-http2-*} names are dropped (a client cannot forge
     * them), the other pseudo-header fields are in the request line.
     */
    private static void copyRequestFields(int streamId, Http2Headers in, DecodedHeaders out) throws Http2Exception {
        StringBuilder cookies = null;
        boolean host = false;
        out.trusting();
        try {
            for (Map.Entry<CharSequence, CharSequence> field : in) {
                CharSequence name = field.getKey();
                CharSequence value = field.getValue();
                if (paddedWithWhitespace(value)) {
                    // RFC 9113 §8.2.1: malformed. Netty's decoder refuses CR, LF, NUL and a leading space, not a
                    // trailing space or tab (h2spec-style case http2/8.2.1-7 and -8).
                    throw Http2Exception.streamError(
                            streamId, PROTOCOL_ERROR, "field '%s' has leading or trailing whitespace", name);
                }
                if (name.length() > 0 && name.charAt(0) == ':') {
                    if (AsciiString.contentEquals(name, Http2Headers.PseudoHeaderName.AUTHORITY.value())) {
                        host = addHost(streamId, out, host, value);
                    }
                } else if (AsciiString.contentEquals(name, HttpHeaderNames.COOKIE)) {
                    cookies = cookies == null ? new StringBuilder(value.length() + 16) : cookies.append("; ");
                    cookies.append(value);
                } else if (AsciiString.contentEquals(name, HttpHeaderNames.HOST)) {
                    host = addHost(streamId, out, host, value);
                } else if (!AsciiString.contentEquals(name, HttpHeaderNames.TRAILER)
                        && !AsciiString.regionMatches(name, false, 0, X_HTTP2, 0, X_HTTP2.length())) {
                    out.add(name, value); // names arrive lower-case (validated): no case folding needed
                }
            }
            if (cookies != null) {
                out.add(HttpHeaderNames.COOKIE, cookies.toString());
            }
        } finally {
            out.checking();
        }
    }

    /** Whether a field value starts or ends with a space or a horizontal tab (RFC 9113 §8.2.1). */
    static boolean paddedWithWhitespace(CharSequence value) {
        int n = value.length();
        return n > 0 && (spaceOrTab(value.charAt(0)) || spaceOrTab(value.charAt(n - 1)));
    }

    private static boolean spaceOrTab(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean addHost(int streamId, DecodedHeaders out, boolean seen, CharSequence value)
            throws Http2Exception {
        if (!seen) {
            out.add(HttpHeaderNames.HOST, value);
        } else if (!AsciiString.contentEqualsIgnoreCase(out.get(HttpHeaderNames.HOST), value)) {
            throw Http2Exception.streamError(
                    streamId, PROTOCOL_ERROR, "Conflicting ':authority' and 'host' headers found");
        }
        return true;
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
                headers = fields(response.headers(), response.status().codeAsText());
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
                    trailers = fields(last.trailingHeaders(), null);
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

    /**
     * The final response to a HEAD request: its HEADERS end the stream, and whatever content or trailers the upstream
     * sent after it are dropped (by the caller: nothing is written after the end). A response to HEAD has no content
     * (RFC 9110 §9.3.2) even when the upstream sends some — an HTTP/2 app may, and clients take DATA on a HEAD
     * response as malformed (h2spec generic/4-2 caught the waypoint passing an echo app's body on). Takes ownership of
     * {@code response}; returns true (the stream's end is written).
     */
    static boolean writeHeadOnly(
            Http2ConnectionEncoder encoder, ChannelHandlerContext ctx, int streamId, HttpResponse response) {
        Http2Headers headers;
        try {
            headers = fields(response.headers(), response.status().codeAsText());
        } finally {
            ReferenceCountUtil.release(response);
        }
        encoder.writeHeaders(ctx, streamId, headers, 0, true, ctx.newPromise());
        return true;
    }

    /**
     * A response head's ({@code status} set) or trailers' fields as HTTP/2 fields: what
     * {@code HttpConversionUtil.toHttp2Headers} makes, in one pass and without its per-call map of the
     * {@code Connection} tokens — a response that has a {@code connection}, {@code te} or {@code cookie} field
     * (never one from an HTTP/2 upstream: the exchange removes {@code connection}, the decoder refuses the
     * others) goes through Netty's conversion, which handles those. Names are checked (HTTP/2 tokens) as
     * Netty's conversion checked them.
     */
    static Http2Headers fields(HttpHeaders in, AsciiString status) {
        DefaultHttp2Headers out = new DefaultHttp2Headers(true, in.size() + 1);
        if (status != null) {
            out.status(status);
        }
        for (var it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            AsciiString name = AsciiString.of(field.getKey()).toLowerCase();
            if (name.contentEquals(HttpHeaderNames.CONNECTION)
                    || name.contentEquals(HttpHeaderNames.TE)
                    || name.contentEquals(HttpHeaderNames.COOKIE)) {
                return netty(in, status);
            }
            if (!connectionSpecific(name)) {
                out.add(name, field.getValue());
            }
        }
        return out;
    }

    private static Http2Headers netty(HttpHeaders in, AsciiString status) {
        DefaultHttp2Headers out = new DefaultHttp2Headers(true, in.size() + 1);
        if (status != null) {
            out.status(status);
        }
        HttpConversionUtil.toHttp2Headers(in, out);
        return out;
    }

    /** Fields HTTP/2 does not carry (RFC 9113 §8.2.2) and Netty's {@code x-http2-*} extension fields. */
    private static boolean connectionSpecific(AsciiString name) {
        return name.contentEquals(HttpHeaderNames.TRANSFER_ENCODING)
                || name.contentEquals(HttpHeaderNames.KEEP_ALIVE)
                || name.contentEquals(HttpHeaderNames.PROXY_CONNECTION)
                || name.contentEquals(HttpHeaderNames.UPGRADE)
                || name.contentEquals(HttpHeaderNames.HOST)
                || name.startsWith(X_HTTP2);
    }
}
