package io.ambit.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the waypoint removes from a request before anything reads it (security-cases rows 18 and 22). */
class RequestHeadersTest {

    /** Not validating: the decoders validated what arrives (a value with a leading space is legal HTTP/2). */
    private static HttpHeaders headers(String... nameValues) {
        HttpHeaders h =
                DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    private static List<String> entries(HttpHeaders h) {
        return h.entries().stream().map(e -> e.getKey() + ": " + e.getValue()).toList();
    }

    @Test
    void hopByHopHeadersAndTheOnesConnectionNamesAreRemoved() {
        HttpHeaders h = headers(
                "Host", "svc",
                "Connection", "keep-alive, X-Drop-Me",
                "x-drop-me", "1",
                "Keep-Alive", "timeout=5",
                "proxy-connection", "keep-alive",
                "Upgrade", "websocket",
                "HTTP2-Settings", "AAMAAABkAAQAAP__",
                "Proxy-Authorization", "Basic Zm9vOmJhcg==",
                "expect", "100-continue",
                "transfer-encoding", "chunked",
                "accept", "*/*");
        RequestHeaders.clean(h, true);
        assertThat(h.names()).containsExactlyInAnyOrder("Host", "transfer-encoding", "accept");
    }

    @Test
    void anHttp2RequestLosesTransferEncodingAnHttp1RequestKeepsIt() {
        HttpHeaders h2 = headers("transfer-encoding", "chunked", "accept", "*/*");
        RequestHeaders.clean(h2, false);
        assertThat(h2.names()).containsExactly("accept");

        HttpHeaders h1 = headers("transfer-encoding", "chunked", "accept", "*/*");
        RequestHeaders.clean(h1, true);
        assertThat(h1.names()).containsExactlyInAnyOrder("transfer-encoding", "accept");
    }

    @Test
    void teCrossesOnlyAsTrailers() {
        HttpHeaders grpc = headers("te", "trailers", "content-type", "application/grpc");
        RequestHeaders.clean(grpc, false);
        assertThat(grpc.get("te")).isEqualTo("trailers");

        HttpHeaders spaced = headers("TE", " Trailers ");
        RequestHeaders.clean(spaced, true);
        assertThat(spaced.get("te")).isEqualTo(" Trailers ");

        HttpHeaders gzip = headers("te", "gzip", "accept", "*/*");
        RequestHeaders.clean(gzip, true);
        assertThat(gzip.names()).containsExactly("accept");
    }

    @Test
    void internalHeadersAClientCouldForgeAreRemovedWhateverTheirCase() {
        HttpHeaders h = headers(
                "X-Forwarded-Client-Cert", "By=spiffe://evil",
                "x-envoy-original-path", "/admin",
                "X-Envoy-Peer-Metadata", "x",
                "x-istio-attributes", "source.principal=cluster.local/ns/default/sa/sleep",
                "x-forwarded-for", "10.0.0.1",
                "x-envoyish", "kept: not the x-envoy- prefix",
                "accept", "*/*");
        RequestHeaders.clean(h, false);
        assertThat(h.names()).containsExactlyInAnyOrder("x-forwarded-for", "x-envoyish", "accept");
    }

    @Test
    void aRequestWithNothingToRemoveIsLeftExactlyAsItWas() {
        HttpHeaders h = headers(
                "host", "svc", "user-agent", "h2load", "x-user", "a", "x-user", "b", "te", "trailers", "accept", "*/*");
        List<String> before = entries(h);
        RequestHeaders.clean(h, false);
        assertThat(entries(h)).isEqualTo(before);
    }

    @Test
    void aMissingOrUnusableRequestIdIsReplacedByANewOne() {
        HttpHeaders kept = headers("x-request-id", "abc");
        assertThat(RequestHeaders.requestId(kept)).isEqualTo("abc");

        HttpHeaders none = headers();
        String id = RequestHeaders.requestId(none);
        assertThat(id).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        assertThat(none.get("x-request-id")).isEqualTo(id);

        HttpHeaders tooLong = headers("x-request-id", "x".repeat(257));
        assertThat(RequestHeaders.requestId(tooLong)).hasSize(36);
    }
}
