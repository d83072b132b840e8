package io.ambit.waypoint.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.NoLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The upstream HTTP/2 session frame by frame: the session in one {@link EmbeddedChannel} (the tunnel), Netty's
 * HTTP/2 server codec in another, bytes carried between them by hand. What the wire must (not) carry: no
 * RST_STREAM after a complete exchange, RST_STREAM CANCEL for an abandoned one, trailers as the last part, and
 * flow-control credit withheld while the exchange does not read.
 */
@ExtendWith(NoLeaks.class)
class H2SessionFramesTest {
    private EmbeddedChannel tunnel;
    private EmbeddedChannel server;
    private Http2FrameCodec serverCodec;
    private H2Session session;
    private final List<Object> serverSaw = new ArrayList<>();
    private final List<HttpObject> got = new ArrayList<>();
    /** Every RST_STREAM error code the session wrote, read off the wire (the server's codec hides resets of
     * streams that it already considers closed). */
    private final List<Long> resetsWritten = new ArrayList<>();

    private final DefaultHttp2FrameReader tapReader = new DefaultHttp2FrameReader();
    private final EmbeddedChannel tapChannel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
    private final ByteBuf tapped = Unpooled.buffer();
    private boolean prefaceSkipped;

    @BeforeEach
    void connect() {
        tunnel = new EmbeddedChannel();
        var owner = new LoopUpstreams(tunnel.eventLoop(), null, null, null, RouteConfig.defaults());
        session = new H2SessionBuilder(owner, null, RouteConfig.defaults(), owner.deadlines()).build();
        tunnel.pipeline().addLast(new io.ambit.waypoint.ingress.TunnelWrites(), session);
        serverCodec = Http2FrameCodecBuilder.forServer().build();
        server = new EmbeddedChannel(serverCodec, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                serverSaw.add(msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                ReferenceCountUtil.release(evt);
            }
        });
        exchangeBytes();
        assertThat(session.ready()).isCompleted();
    }

    @AfterEach
    void close() {
        got.forEach(ReferenceCountUtil::release);
        serverSaw.forEach(ReferenceCountUtil::release);
        tunnel.finishAndReleaseAll();
        server.finishAndReleaseAll();
        tapped.release();
        tapReader.close();
        tapChannel.finishAndReleaseAll();
    }

    private void tap(ByteBuf written) {
        tapped.writeBytes(written, written.readerIndex(), written.readableBytes());
        if (!prefaceSkipped && tapped.readableBytes() >= 24) {
            tapped.skipBytes(24); // the client connection preface
            prefaceSkipped = true;
        }
        if (prefaceSkipped) {
            try {
                tapReader.readFrame(tapChannel.pipeline().firstContext(), tapped, new Http2FrameAdapter() {
                    @Override
                    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
                        resetsWritten.add(errorCode);
                    }
                });
            } catch (Http2Exception e) {
                throw new AssertionError("the session wrote a malformed frame", e);
            }
            tapped.discardReadBytes();
        }
    }

    /** Carries bytes both ways until neither side has anything to send (bounded). */
    private void exchangeBytes() {
        for (int i = 0; i < 100; i++) {
            boolean moved = false;
            tunnel.runPendingTasks(); // the session's writes reach the tunnel once per loop turn (TunnelWrites)
            for (Object o; (o = tunnel.readOutbound()) != null; moved = true) {
                tap((ByteBuf) o);
                server.writeInbound(o);
            }
            server.flushOutbound();
            for (Object o; (o = server.readOutbound()) != null; moved = true) {
                tunnel.writeInbound(o);
            }
            tunnel.runPendingTasks();
            if (!moved) {
                return;
            }
        }
        throw new AssertionError("the two sides kept talking for 100 rounds");
    }

    /** An upstream whose listener records parts and releases the stream on the last one, as the exchange does. */
    private H2Upstream upstream(boolean releaseAtEnd) {
        H2Upstream u = session.open(() -> null);
        u.listen(new UpstreamListener() {
            @Override
            public void onResponse(HttpObject part) {
                got.add(part);
                if (releaseAtEnd && part instanceof LastHttpContent) {
                    u.release(true);
                }
            }

            @Override
            public void onUpstreamWritable() {}

            @Override
            public void onUpstreamClosed(Throwable cause) {
                got.add(new io.netty.handler.codec.http.DefaultHttpResponse(
                        HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpResponseStatus.valueOf(599)));
            }
        });
        return u;
    }

    private static HttpRequest get(String path) {
        var r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER);
        r.headers().set("host", "app.example").set("x-request-id", "r-1").set("Connection", "keep-alive");
        return r;
    }

    private Http2FrameStream requestStream() {
        for (Object o : serverSaw) {
            if (o instanceof Http2HeadersFrame h) {
                return h.stream();
            }
        }
        throw new AssertionError("no request HEADERS at the server: " + serverSaw);
    }

    private void respond(Http2FrameStream stream, String body, boolean trailers) {
        server.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(stream));
        server.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8), !trailers)
                .stream(stream));
        if (trailers) {
            server.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true)
                    .stream(stream));
        }
        server.flush();
        exchangeBytes();
    }

    private List<Http2ResetFrame> resets() {
        return serverSaw.stream()
                .filter(o -> o instanceof Http2ResetFrame)
                .map(o -> (Http2ResetFrame) o)
                .toList();
    }

    @Test
    void aCompleteExchangeEndsWithoutAResetAndTheRequestHeadersAreHttp2s() {
        upstream(true).write(get("/items?x=1"));
        exchangeBytes();
        Http2HeadersFrame request = (Http2HeadersFrame) serverSaw.stream()
                .filter(o -> o instanceof Http2HeadersFrame)
                .findFirst()
                .orElseThrow();
        assertThat(request.isEndStream())
                .as("a bodyless request is HEADERS with END_STREAM")
                .isTrue();
        assertThat(request.headers().method().toString()).isEqualTo("GET");
        assertThat(request.headers().path().toString()).isEqualTo("/items?x=1");
        assertThat(request.headers().scheme().toString()).isEqualTo("http");
        assertThat(request.headers().authority().toString()).isEqualTo("app.example");
        assertThat(request.headers().get("x-request-id").toString()).isEqualTo("r-1");
        assertThat(request.headers().contains("host")).isFalse();
        assertThat(request.headers().contains("connection"))
                .as("connection-specific")
                .isFalse();

        respond(request.stream(), "hello", false);
        assertThat(got).hasSize(2);
        assertThat(((HttpResponse) got.get(0)).status().code()).isEqualTo(200);
        assertThat(((LastHttpContent) got.get(1)).content().toString(StandardCharsets.UTF_8))
                .isEqualTo("hello");
        assertThat(resetsWritten).as("nothing to reset: both sides ended").isEmpty();
        assertThat(session.connection().numActiveStreams()).isZero();
    }

    @Test
    void anAbandonedExchangeResetsItsStreamWithCancel() {
        H2Upstream u = upstream(false);
        u.write(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/upload"));
        exchangeBytes();
        assertThat(requestStream()).isNotNull();
        u.abort();
        exchangeBytes();
        assertThat(resets()).hasSize(1);
        assertThat(resets().getFirst().errorCode()).isEqualTo(Http2Error.CANCEL.code());
        assertThat(resetsWritten).containsExactly(Http2Error.CANCEL.code());
        assertThat(session.connection().numActiveStreams()).isZero();
    }

    @Test
    void trailersAreTheLastPartWithTheirHeaders() {
        upstream(true).write(get("/grpc"));
        exchangeBytes();
        respond(requestStream(), "message", true);
        assertThat(resetsWritten).isEmpty();
        assertThat(got).hasSize(3);
        assertThat(got.get(1)).isInstanceOf(HttpContent.class).isNotInstanceOf(LastHttpContent.class);
        assertThat(((LastHttpContent) got.get(2)).trailingHeaders().get("grpc-status"))
                .isEqualTo("0");
        assertThat(resets()).isEmpty();
    }

    @Test
    void creditIsWithheldWhileTheExchangeDoesNotReadAndReturnedWhenItDoes() {
        H2Upstream u = upstream(false);
        u.write(get("/big"));
        exchangeBytes();
        Http2FrameStream stream = requestStream();
        u.reading(false);
        int window = H2SessionBuilder.STREAM_WINDOW;
        server.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(stream));
        int sent = 0;
        for (int i = 0; i < 40; i++) { // 40 x 16 KiB = 640 KiB: more than half the stream's window
            ByteBuf chunk = Unpooled.wrappedBuffer(new byte[16 * 1024]);
            sent += chunk.readableBytes();
            server.write(new DefaultHttp2DataFrame(chunk, false).stream(stream));
        }
        server.flush();
        exchangeBytes();
        Http2Stream atServer = serverCodec.connection().stream(stream.id());
        int left = serverCodec.connection().remote().flowController().windowSize(atServer);
        assertThat(got).as("nothing delivered while not reading").isEmpty();
        assertThat(left).as("no credit returned while not reading").isEqualTo(window - sent);

        u.reading(true);
        exchangeBytes();
        assertThat(got.getFirst()).isInstanceOf(HttpResponse.class);
        long delivered = got.stream()
                .skip(1)
                .mapToLong(p -> ((HttpContent) p).content().readableBytes())
                .sum();
        assertThat(delivered).as("every byte, in parts after the head").isEqualTo(sent);
        assertThat(serverCodec.connection().remote().flowController().windowSize(atServer))
                .as("credit returned once the parts were delivered")
                .isEqualTo(window);
        u.abort();
        exchangeBytes();
    }
}
