package io.ambit.waypoint.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The request HEADERS the waypoint sends an HTTP/2 endpoint, as the endpoint decodes them: the pseudo-header fields
 * from the request line and Host, the other fields in the request's order with lower-case names (several values of
 * one name kept apart and in order), without the fields that describe an HTTP/1.1 connection (RFC 9113 §8.2.2) —
 * encoded and decoded with Netty's HPACK, as on the wire.
 */
class UpstreamRequestHeadersTest {
    @Test
    void theRequestBecomesPseudoHeadersAndLowerCaseFieldsInOrder() throws Exception {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/items?x=1");
        request.headers()
                .add("Host", "app.bench.svc:80")
                .add("User-Agent", "curl/8")
                .add("X-Multi", "a")
                .add("Connection", "keep-alive")
                .add("Keep-Alive", "timeout=5")
                .add("Transfer-Encoding", "chunked")
                .add("Upgrade", "h2c")
                .add("TE", "gzip")
                .add("X-Multi", "b")
                .add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                .add("X-Latin1", "caf\u00e9");

        Http2Headers wire = roundTrip(H2Messages.request(request));

        assertThat(wire.method()).hasToString("POST");
        assertThat(wire.scheme()).hasToString("http");
        assertThat(wire.path()).hasToString("/api/items?x=1");
        assertThat(wire.authority()).hasToString("app.bench.svc:80");
        assertThat(regular(wire))
                .containsExactly(
                        "user-agent: curl/8",
                        "x-multi: a",
                        "x-multi: b",
                        "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                        "x-latin1: caf\u00e9");
    }

    @Test
    void teTrailersCrossesForGrpc() throws Exception {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/pkg.Svc/Call");
        request.headers().add("host", "grpc.svc:50051").add("te", "trailers").add("content-type", "application/grpc");

        assertThat(regular(roundTrip(H2Messages.request(request))))
                .containsExactly("te: trailers", "content-type: application/grpc");
    }

    @Test
    void aRequestWithoutHostHasNoAuthority() throws Exception {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/");
        request.headers().add("accept", "*/*");

        Http2Headers wire = roundTrip(H2Messages.request(request));

        assertThat(wire.method()).hasToString("GET");
        assertThat(wire.path()).hasToString("/");
        assertThat(wire.scheme()).hasToString("http");
        assertThat(wire.authority()).isNull();
        assertThat(regular(wire)).containsExactly("accept: */*");
    }

    @Test
    void theFirstHostIsTheAuthority() throws Exception {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        request.headers().add("host", "first:80").add("host", "second:80");

        Http2Headers wire = roundTrip(H2Messages.request(request));

        assertThat(wire.authority()).hasToString("first:80");
        assertThat(regular(wire)).isEmpty();
    }

    /** Through Netty's HPACK encoder and (validating) decoder, as the endpoint reads them. */
    private static Http2Headers roundTrip(Http2Headers headers) throws Exception {
        ByteBuf block = Unpooled.buffer();
        try {
            new DefaultHttp2HeadersEncoder().encodeHeaders(1, headers, block);
            return new DefaultHttp2HeadersDecoder(true).decodeHeaders(1, block);
        } finally {
            block.release();
        }
    }

    private static List<String> regular(Http2Headers headers) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<CharSequence, CharSequence> h : headers) {
            if (h.getKey().charAt(0) != ':') {
                out.add(h.getKey() + ": " + h.getValue());
            }
        }
        return out;
    }
}
