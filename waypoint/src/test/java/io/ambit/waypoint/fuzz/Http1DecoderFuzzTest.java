package io.ambit.waypoint.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.LeakRecorder;
import io.ambit.waypoint.http1.Http1Limits;
import io.ambit.waypoint.http1.StrictRequestDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.EmptyByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The waypoint's HTTP/1.1 request decoder (configured as {@code Http1Connection.install} does) against
 * random mutations of valid request heads, fed through an {@link EmbeddedChannel} in one piece and in
 * random pieces. Every input decodes to requests whose framing is unambiguous (never Content-Length with
 * Transfer-Encoding, only a single {@code chunked}, one plain-decimal Content-Length, no control
 * characters in the head) or to a failed head — which the connection answers 400 and closes — after which
 * nothing more is decoded. How the bytes are split never changes what is decoded, and every buffer is
 * released (Netty's paranoid leak detection is checked after the class).
 */
class Http1DecoderFuzzTest {

    @AfterContainer
    static void noLeaks() throws InterruptedException {
        if (LeakRecorder.isInstalled()) {
            assertThat(LeakRecorder.collect()).as("Netty leak reports").isEmpty();
        }
    }

    @Property(seed = FuzzInputs.SEED)
    void everyInputIsUnambiguousRequestsOrARefusedHead(@ForAll("requests") String input) {
        List<String> transcript = decode(input, List.of());

        boolean refused = transcript.stream().anyMatch(line -> line.startsWith("FAILED"));
        FuzzInputs.outcome(!refused);
        if (refused) {
            int failed = indexOfFirst(transcript, "FAILED");
            assertThat(transcript.subList(failed + 1, transcript.size()))
                    .as("nothing is decoded after a refused head")
                    .noneMatch(line -> line.startsWith("HEAD"));
        }
    }

    @Property(seed = FuzzInputs.SEED)
    void howTheBytesAreSplitChangesNothing(@ForAll("requests") String input, @ForAll("cuts") List<Integer> cuts) {
        assertThat(decode(input, cuts)).isEqualTo(decode(input, List.of()));
    }

    /** Decodes {@code input} (cut at the given offsets) and describes what came out, one line per part. */
    private static List<String> decode(String input, List<Integer> cuts) {
        Http1Limits limits = Http1Limits.defaults();
        HttpDecoderConfig config = new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxInitialLineLength())
                .setMaxHeaderSize(limits.maxHeaderSize())
                .setMaxChunkSize(limits.maxChunkSize())
                .setValidateHeaders(true)
                .setStrictLineParsing(true);
        EmbeddedChannel channel = new EmbeddedChannel(new StrictRequestDecoder(config));
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        List<ByteBuf> written = new ArrayList<>();
        int from = 0;
        for (int cut : cuts.stream().sorted().distinct().toList()) {
            if (cut > from && cut < bytes.length) {
                written.add(write(channel, bytes, from, cut));
                from = cut;
            }
        }
        written.add(write(channel, bytes, from, bytes.length));
        List<String> transcript = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        List<HttpContent> parts = new ArrayList<>();
        try {
            Object msg;
            while ((msg = channel.readInbound()) != null) {
                try {
                    describe((HttpObject) msg, transcript, body);
                } finally {
                    if (msg instanceof HttpContent content && !(content.content() instanceof EmptyByteBuf)) {
                        parts.add(content); // (empty parts share one buffer that is never released)
                    }
                    ReferenceCountUtil.release(msg);
                }
            }
        } finally {
            channel.finishAndReleaseAll(); // also when an assertion failed: no leak from the test itself
        }
        // Parts may be slices of the decoder's buffer: only once the channel is done must all be at zero.
        for (HttpContent part : parts) {
            assertThat(part.refCnt()).as("released part").isZero();
        }
        for (ByteBuf b : written) {
            assertThat(b.refCnt()).as("the decoder released what it read").isZero();
        }
        return transcript;
    }

    private static ByteBuf write(EmbeddedChannel channel, byte[] bytes, int from, int to) {
        ByteBuf buf = Unpooled.copiedBuffer(bytes, from, to - from);
        channel.writeInbound(buf);
        return buf;
    }

    private static void describe(HttpObject part, List<String> transcript, StringBuilder body) {
        if (part.decoderResult().isFailure()) {
            Throwable cause = part.decoderResult().cause();
            assertThat(cause).isNotNull();
            assertThat(cause).isNotInstanceOfAny(NullPointerException.class, IndexOutOfBoundsException.class);
            transcript.add("FAILED " + cause.getClass().getSimpleName());
            return;
        }
        if (part instanceof HttpRequest request) {
            checkHead(request);
            transcript.add("HEAD " + request.method() + " " + request.uri() + " " + request.protocolVersion() + " "
                    + request.headers().entries().stream()
                            .map(Map.Entry::toString)
                            .toList());
        }
        if (part instanceof HttpContent content) {
            body.append(content.content().toString(StandardCharsets.ISO_8859_1));
            if (content instanceof LastHttpContent last) {
                transcript.add(
                        "BODY " + body + " TRAILERS " + last.trailingHeaders().entries());
                body.setLength(0);
            }
        }
    }

    /** What a request head that the decoder lets through must look like. */
    private static void checkHead(HttpRequest request) {
        var headers = request.headers();
        List<String> te = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        List<String> cl = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
        assertThat(te.isEmpty() || cl.isEmpty())
                .as("CL and TE together: %s", headers)
                .isTrue();
        if (!te.isEmpty()) {
            assertThat(te).hasSize(1);
            assertThat(te.getFirst().trim()).isEqualToIgnoringCase("chunked");
            assertThat(request.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        }
        assertThat(cl).hasSizeLessThanOrEqualTo(1);
        cl.forEach(v -> assertThat(v).matches("[0-9]+"));
        assertThat(request.method().name()).matches("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
        assertThat(request.uri().chars()).noneMatch(c -> c <= 0x20 || c == 0x7f);
        for (Map.Entry<String, String> h : headers) {
            assertThat(h.getKey()).matches("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
            assertThat(h.getValue().chars()).noneMatch(c -> c == '\r' || c == '\n' || c == 0);
        }
    }

    /** Regression: Netty let control characters and non-ASCII bytes through in the request target. */
    @Example
    void aRequestTargetWithControlOrNonAsciiBytesIsRefused() {
        for (String target : new String[] {"/a\u001b", "/a\u007fb", "/\u00ffadmin", "\u001b/get", "/a\u0085"}) {
            assertThat(decode("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n", List.of()))
                    .as(target)
                    .containsExactly("FAILED IllegalArgumentException");
        }
        assertThat(decode("GET /a%7F%FF HTTP/1.1\r\nHost: h\r\n\r\n", List.of()))
                .first()
                .asString()
                .startsWith("HEAD GET /a%7F%FF");
    }

    private static int indexOfFirst(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }

    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(0, 400).list().ofMaxSize(6);
    }

    @Provide
    Arbitrary<String> requests() {
        return mutatedRequests();
    }

    /** Valid request heads (GET, POST with a length, chunked POST, HTTP/1.0, PUT) with up to 4 edits. */
    static Arbitrary<String> mutatedRequests() {
        Arbitrary<String> valid = Arbitraries.of(
                "GET /get HTTP/1.1\r\nHost: httpbin\r\n\r\n",
                "POST /post HTTP/1.1\r\nHost: httpbin\r\nContent-Length: 5\r\n\r\nhello",
                "POST /post HTTP/1.1\r\nHost: httpbin\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "GET / HTTP/1.0\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n",
                "PUT /x?y=1 HTTP/1.1\r\nHost: h\r\nX-A: b\r\nContent-Length: 0\r\n\r\n");
        Arbitrary<String> fragment = Arbitraries.oneOf(
                Arbitraries.of(
                        "Transfer-Encoding: chunked\r\n",
                        "Content-Length: 5\r\n",
                        "Content-Length: 6\r\n",
                        "Content-Length: +5\r\n",
                        "Content-Length: 5, 5\r\n",
                        "Content-Length: 0x5\r\n",
                        "Transfer-Encoding: xchunked\r\n",
                        "Transfer-Encoding: chunked, identity\r\n",
                        "Transfer-Encoding : chunked\r\n",
                        " Transfer-Encoding: chunked\r\n",
                        "X: a\r\n b\r\n",
                        "Transfer-Encoding:\tchunked\r\n",
                        "Transfer-Encoding: CHUNKED\r\n",
                        "Host: other\r\n",
                        "\r\n",
                        "\n",
                        "\r",
                        "\0",
                        " ",
                        "\t",
                        ":",
                        "0\r\n\r\n",
                        "ffffffffffffffff\r\n",
                        "HTTP/1.1",
                        "HTTP/1.0",
                        "\u0085",
                        "\u00ff",
                        "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
                Arbitraries.strings().withCharRange('\0', '\u00ff').ofMaxLength(4));
        Arbitrary<Tuple.Tuple2<Integer, String>> edit = Combinators.combine(
                        Arbitraries.integers().between(0, 200), fragment)
                .as(Tuple::of);
        Arbitrary<Integer> kind = Arbitraries.integers().between(0, 2);
        Arbitrary<Tuple.Tuple3<Integer, Integer, String>> mutation = Combinators.combine(
                        kind, Arbitraries.integers().between(0, 200), fragment)
                .as(Tuple::of);
        return Combinators.combine(valid, mutation.list().ofMaxSize(4)).as((request, mutations) -> {
            String s = request;
            for (var m : mutations) {
                int at = Math.min(m.get2(), s.length());
                s = switch (m.get1()) {
                    case 0 -> s.substring(0, at) + m.get3() + s.substring(at); // insert
                    case 1 ->
                        s.substring(0, at)
                                + s.substring(Math.min(s.length(), at + m.get3().length())); // delete
                    default ->
                        s.substring(0, at)
                                + m.get3()
                                + s.substring(Math.min(s.length(), at + m.get3().length()));
                };
            }
            return s;
        });
    }
}
