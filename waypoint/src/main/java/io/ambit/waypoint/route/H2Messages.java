package io.ambit.waypoint.route;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpScheme;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.ReadOnlyHttp2Headers;
import io.netty.util.AsciiString;
import java.util.Arrays;
import java.util.Map;

/**
 * The waypoint's request as HTTP/2 HEADERS for an endpoint, and the endpoint's HEADERS back as the HTTP objects
 * the exchange reads. Written here rather than with {@code HttpConversionUtil}: that one copies every header
 * through a generic translator and adds {@code x-http2-*} extension headers that the other side then strips
 * again; a request crosses this code once per hop, so it is kept to one pass over the headers.
 *
 * <p>Validation: request headers were validated when the client's request was parsed (and headers the stages
 * add go through validating {@link HttpHeaders}); response headers were validated by the HPACK decoder
 * ({@code validateHeaders}), so neither side validates again.
 */
final class H2Messages {
    /** Response and trailer headers arrive validated by the HTTP/2 decoder. */
    private static final HttpHeadersFactory RECEIVED =
            DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private static final AsciiString X_HTTP2 = AsciiString.cached("x-http2-");

    private H2Messages() {}

    /**
     * The request's HEADERS: {@code :method}, {@code :scheme http} (the tunnel is the transport security),
     * {@code :path}, {@code :authority} from Host, then the headers with lower-case names, without those
     * that describe an HTTP/1.1 connection (RFC 9113 §8.2.2) or that Netty's HTTP/2 codecs use internally.
     *
     * <p>As a flat read-only list ({@link ReadOnlyHttp2Headers}), not a hash table: nothing looks a field up in
     * it, the HPACK encoder only iterates it (in the order here: the pseudo-header fields first), and the encoder
     * copies {@link AsciiString} values in one call rather than character by character. A request without Host
     * (HTTP/1.0) has no {@code :authority}, which the flat form cannot leave out: it gets the general form.
     */
    static Http2Headers request(HttpRequest request) {
        HttpHeaders in = request.headers();
        AsciiString[] fields = new AsciiString[2 * in.size()];
        int n = 0;
        AsciiString authority = null;
        for (var it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            AsciiString name = AsciiString.of(h.getKey()).toLowerCase();
            CharSequence value = h.getValue();
            if (name.contentEquals(HttpHeaderNames.HOST)) {
                if (authority == null) {
                    authority = AsciiString.of(value);
                }
            } else if (!connectionSpecific(name, value)) {
                if (n == fields.length) {
                    fields = Arrays.copyOf(fields, n + 16); // a headers class whose size() counts names only
                }
                fields[n++] = name;
                fields[n++] = AsciiString.of(value);
            }
        }
        if (authority == null) {
            return withoutAuthority(request, fields, n);
        }
        return ReadOnlyHttp2Headers.clientHeaders(
                false, // validated when the client's request was parsed (see the class comment)
                request.method().asciiName(),
                AsciiString.of(request.uri()),
                HttpScheme.HTTP.name(),
                authority,
                n == fields.length ? fields : Arrays.copyOf(fields, n));
    }

    private static Http2Headers withoutAuthority(HttpRequest request, AsciiString[] fields, int n) {
        DefaultHttp2Headers out = new DefaultHttp2Headers(false, n / 2 + 3);
        out.method(request.method().asciiName());
        out.scheme(HttpScheme.HTTP.name());
        out.path(request.uri());
        for (int i = 0; i < n; i += 2) {
            out.add(fields[i], fields[i + 1]);
        }
        return out;
    }

    /** Headers HTTP/2 forbids (RFC 9113 §8.2.2), and Netty's {@code x-http2-*} extension headers. */
    private static boolean connectionSpecific(AsciiString name, CharSequence value) {
        return name.contentEquals(HttpHeaderNames.CONNECTION)
                || name.contentEquals(HttpHeaderNames.KEEP_ALIVE)
                || name.contentEquals(HttpHeaderNames.PROXY_CONNECTION)
                || name.contentEquals(HttpHeaderNames.TRANSFER_ENCODING)
                || name.contentEquals(HttpHeaderNames.UPGRADE)
                || (name.contentEquals(HttpHeaderNames.TE)
                        && !AsciiString.contentEqualsIgnoreCase(value, HttpHeaderValues.TRAILERS))
                || name.startsWith(X_HTTP2);
    }

    /** Trailing headers of a request (gRPC clients rarely send any; HTTP/1.1 chunked trailers can). */
    static Http2Headers trailers(HttpHeaders in) {
        DefaultHttp2Headers out = new DefaultHttp2Headers(false, in.size());
        for (var it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            AsciiString name = AsciiString.of(h.getKey()).toLowerCase();
            if (!connectionSpecific(name, h.getValue())) {
                out.add(name, h.getValue());
            }
        }
        return out;
    }

    /**
     * A response head: a {@link DefaultFullHttpResponse} when the HEADERS end the stream (a trailers-only gRPC
     * answer, a bodiless response) or are interim (1xx: complete in themselves, so the exchange skips exactly
     * this object), else a {@link DefaultHttpResponse} whose body follows. Without a usable {@code :status} the
     * response carries a failed decoder result, which the exchange answers as an upstream protocol error.
     */
    static HttpResponse response(Http2Headers in, boolean endStream) {
        HttpHeaders headers = RECEIVED.newHeaders();
        copyRegular(in, headers);
        HttpResponseStatus status = status(in.status());
        if (status == null) {
            HttpResponse bad = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY, headers);
            bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(
                    "upstream response :status \"" + in.status() + "\" (expected: a 3-digit status code)")));
            return bad;
        }
        if (endStream || status.code() < 200) {
            return new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE);
        }
        // No "transfer-encoding: chunked" for a body without a length, as Netty's conversion adds: an HTTP/2
        // upstream only ever answers an HTTP/2 client (UpstreamKey: the client's protocol), whose HEADERS drop it
        // again, and nothing in between reads it.
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, headers);
    }

    /** Trailing HEADERS (END_STREAM after the body): the last part, its trailers intact (grpc-status). */
    static HttpObject trailers(Http2Headers in) {
        HttpHeaders trailers = RECEIVED.newHeaders();
        copyRegular(in, trailers);
        return new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, trailers);
    }

    private static void copyRegular(Http2Headers in, HttpHeaders out) {
        for (Map.Entry<CharSequence, CharSequence> h : in) {
            CharSequence name = h.getKey();
            if (name.length() > 0 && name.charAt(0) != ':') {
                out.add(name, h.getValue());
            }
        }
    }

    private static HttpResponseStatus status(CharSequence s) {
        if (s == null || s.length() != 3) {
            return null;
        }
        int code = 0;
        for (int i = 0; i < 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
            code = code * 10 + (c - '0');
        }
        return code < 100 ? null : HttpResponseStatus.valueOf(code);
    }
}
