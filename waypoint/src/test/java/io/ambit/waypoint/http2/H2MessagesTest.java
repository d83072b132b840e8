package io.ambit.waypoint.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The client's HEADERS as the request the exchange reads, and the exchange's response as HEADERS: the fields the
 * old conversion (Netty's HttpConversionUtil) produced, without its extension headers, with validation of what
 * the stages add kept.
 */
class H2MessagesTest {

    private static Http2Headers get(String path) {
        return new DefaultHttp2Headers().method("GET").scheme("http").path(path).authority("svc.ns:80");
    }

    private static List<String> fields(Http2Headers h) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            out.add(e.getKey() + ": " + e.getValue());
        }
        return out;
    }

    @Test
    void aRequestsFieldsBecomeTheHeadWithHostAndJoinedCookies() throws Http2Exception {
        Http2Headers in = get("/api/items?x=1")
                .add("user-agent", "h2load")
                .add("cookie", "a=1")
                .add("x-user", "one")
                .add("cookie", "b=2")
                .add("x-user", "two")
                .add("te", "trailers");
        HttpRequest r = H2Messages.request(3, in, false);
        assertThat(r).isNotInstanceOf(LastHttpContent.class);
        assertThat(r.method()).isEqualTo(HttpMethod.GET);
        assertThat(r.uri()).isEqualTo("/api/items?x=1");
        HttpHeaders h = r.headers();
        assertThat(h.getAll("host")).containsExactly("svc.ns:80");
        assertThat(h.getAll("cookie")).containsExactly("a=1; b=2");
        assertThat(h.getAll("x-user")).containsExactly("one", "two");
        assertThat(h.get("te")).isEqualTo("trailers");
        assertThat(h.get("user-agent")).isEqualTo("h2load");
        assertThat(h.names()).noneMatch(n -> n.startsWith(":") || n.startsWith("x-http2-"));
    }

    @Test
    void aRequestEndingWithItsHeadersIsAFullRequestWithoutBody() throws Http2Exception {
        HttpRequest r = H2Messages.request(1, get("/"), true);
        assertThat(r).isInstanceOf(FullHttpRequest.class);
        FullHttpRequest full = (FullHttpRequest) r;
        assertThat(full.content().readableBytes()).isZero();
        assertThat(full.trailingHeaders().isEmpty()).isTrue();
        full.release();
    }

    @Test
    void extensionHeadersAndTrailerFromTheClientAreDropped() throws Http2Exception {
        Http2Headers in = get("/").add("x-http2-scheme", "https")
                .add("x-http2-stream-id", "99")
                .add("trailer", "grpc-status")
                .add("accept", "*/*");
        HttpHeaders h = H2Messages.request(5, in, false).headers();
        assertThat(h.names()).containsExactlyInAnyOrder("host", "accept");
    }

    @Test
    void aHostFieldMustAgreeWithTheAuthority() throws Http2Exception {
        HttpHeaders same =
                H2Messages.request(1, get("/").add("host", "SVC.ns:80"), false).headers();
        assertThat(same.getAll("host")).containsExactly("svc.ns:80");

        assertThatThrownBy(() -> H2Messages.request(7, get("/").add("host", "evil:80"), false))
                .isInstanceOfSatisfying(Http2Exception.StreamException.class, e -> {
                    assertThat(e.streamId()).isEqualTo(7);
                    assertThat(e.error()).isEqualTo(Http2Error.PROTOCOL_ERROR);
                });

        Http2Headers noAuthority =
                new DefaultHttp2Headers().method("GET").scheme("http").path("/").add("host", "svc:80");
        assertThat(H2Messages.request(1, noAuthority, false).headers().get("host"))
                .isEqualTo("svc:80");
    }

    @Test
    void aRequestWithoutMethodOrPathIsAStreamError() {
        assertThatThrownBy(() -> H2Messages.request(9, new DefaultHttp2Headers().path("/"), false))
                .isInstanceOf(Http2Exception.StreamException.class)
                .hasMessageContaining(":method");
        assertThatThrownBy(() -> H2Messages.request(9, new DefaultHttp2Headers().method("GET"), false))
                .isInstanceOf(Http2Exception.StreamException.class)
                .hasMessageContaining(":path");
        assertThatThrownBy(() -> H2Messages.request(9, new DefaultHttp2Headers().method("CONNECT"), false))
                .isInstanceOf(Http2Exception.StreamException.class)
                .hasMessageContaining(":authority");
    }

    @Test
    void whatTheStagesAddIsStillValidated() throws Http2Exception {
        HttpHeaders h = H2Messages.request(1, get("/"), false).headers();
        h.add("x-claim-sub", "alice"); // a valid field is accepted
        assertThat(h.get("x-claim-sub")).isEqualTo("alice");
        assertThatThrownBy(() -> h.add("x-claim-sub", "alice\r\nx-injected: 1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.set("bad name", "v")).isInstanceOf(IllegalArgumentException.class);
        assertThat(h.contains("x-injected")).isFalse();
    }

    @Test
    void aResponseHeadBecomesLowerCaseHttp2FieldsWithoutConnectionSpecificOnes() {
        HttpHeaders in = new DefaultHttpHeaders()
                .add("Content-Type", "text/plain")
                .add("transfer-encoding", "chunked")
                .add("Keep-Alive", "timeout=5")
                .add("upgrade", "h2c")
                .add("x-http2-stream-id", "3")
                .add("Set-Cookie", "a=1")
                .add("Set-Cookie", "b=2")
                .add("grpc-status", "0");
        Http2Headers out = H2Messages.fields(in, HttpResponseStatus.OK.codeAsText());
        assertThat(fields(out))
                .containsExactly(
                        ":status: 200",
                        "content-type: text/plain",
                        "set-cookie: a=1",
                        "set-cookie: b=2",
                        "grpc-status: 0");
    }

    @Test
    void responsesWithConnectionTeOrCookieFieldsGetNettysConversion() {
        HttpHeaders in = new DefaultHttpHeaders()
                .add("connection", "x-hop")
                .add("x-hop", "1")
                .add("te", "gzip")
                .add("x-kept", "yes");
        Http2Headers out = H2Messages.fields(in, HttpResponseStatus.NO_CONTENT.codeAsText());
        assertThat(fields(out)).containsExactly(":status: 204", "x-kept: yes");
    }

    @Test
    void trailersCarryNoStatus() {
        HttpHeaders in = new DefaultHttpHeaders().add("grpc-status", "7").add("grpc-message", "denied");
        assertThat(fields(H2Messages.fields(in, null))).containsExactly("grpc-status: 7", "grpc-message: denied");
        assertThat(H2Messages.fields(in, null).status()).isNull();
    }
}
