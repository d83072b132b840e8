package io.ambit.waypoint.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.proto.envoy.config.core.v3.HeaderValue;
import io.ambit.proto.envoy.config.core.v3.HeaderValueOption;
import io.ambit.proto.envoy.config.core.v3.QueryParameter;
import io.ambit.proto.envoy.service.auth.v3.AuthorizationGrpc;
import io.ambit.proto.envoy.service.auth.v3.CheckResponse;
import io.ambit.proto.envoy.service.auth.v3.DeniedHttpResponse;
import io.ambit.proto.envoy.service.auth.v3.OkHttpResponse;
import io.ambit.proto.envoy.type.v3.HttpStatus;
import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.answer.Replies;
import io.ambit.waypoint.extauthz.CheckInput;
import io.ambit.waypoint.extauthz.ExtAuthzClient;
import io.ambit.waypoint.extauthz.ExtAuthzClients;
import io.ambit.waypoint.extauthz.ExtAuthzVerdict;
import io.ambit.waypoint.extauthz.HeaderOp;
import io.ambit.waypoint.extauthz.ProviderResolver;
import io.ambit.waypoint.testing.TestNet;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpVersion;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * ext_authz answers from hostile or broken providers (issue 6, security cases 15-22): a real HTTP provider
 * (a raw socket writing whatever bytes the try asks for: any status, duplicate / upper-case / forbidden
 * headers such as {@code :authority}, {@code host}, {@code content-length}, {@code transfer-encoding} and
 * hop-by-hop ones, values with CR, LF, NUL or high bytes, obs-folds, headers and bodies over the limits,
 * framing that lies) and a real gRPC provider (grpc-java, answering with CheckResponses full of header
 * mutations with invalid names and values, hundreds of them, any gRPC and HTTP status, and the same bytes
 * with random edits).
 *
 * <p>What must hold for every answer: a verdict comes (never an exception, never a hang); an allow only
 * from a well-formed HTTP 200 or gRPC OK; a broken answer fails closed with {@code statusOnError}; a denial
 * passes the provider's status; every header change names a plain lower-case token that is neither a
 * pseudo-header nor {@code host} nor framing / hop-by-hop, with a value that stays on one line, and came
 * from the answer; at most {@value #MAX_OPS} changes per list. And the denial as the client gets it,
 * encoded by Netty's HTTP/1.1 encoder, is exactly one response: a second response written after it on
 * the same connection is read intact (no smuggled bytes, no body where the status allows none); an allow's
 * header changes on the upstream request keep it one request the same way.
 */
class ExtAuthzAnswerFuzzTest {
    private static final int MAX_OPS = 128;
    private static final int STATUS_ON_ERROR = 403;
    private static final Set<String> FORBIDDEN = Set.of(
            "host",
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "te",
            "trailer",
            "upgrade",
            "content-length",
            "http2-settings",
            "expect");
    private static final Pattern TOKEN = Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]{1,256}");

    private static EventLoopGroup group;
    private static ExtAuthzClients clients;
    private static RawHttpProvider http;
    private static Server grpc;
    private static volatile byte[] grpcAnswer = new byte[0];
    private static Method denial;

    @BeforeContainer
    static void start() throws Exception {
        // grpc-java logs every cancelled oversized answer at INFO/WARNING: the verdicts are what is checked
        java.util.logging.Logger.getLogger("io.grpc").setLevel(java.util.logging.Level.SEVERE);
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        clients = new ExtAuthzClients(group, NioSocketChannel.class, ProviderResolver.dns());
        http = new RawHttpProvider(TestNet.address("127.93.7.71"));
        MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(byte[] value) {
                return new ByteArrayInputStream(value);
            }

            @Override
            public byte[] parse(InputStream stream) {
                try {
                    return stream.readAllBytes();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
        var check = AuthorizationGrpc.getCheckMethod().toBuilder(bytes, bytes).build();
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress(TestNet.address("127.93.7.72"), 0))
                .addService(ServerServiceDefinition.builder(AuthorizationGrpc.SERVICE_NAME)
                        .addMethod(check, ServerCalls.asyncUnaryCall((request, out) -> {
                            out.onNext(grpcAnswer); // the raw bytes: the client parses them
                            out.onCompleted();
                        }))
                        .build())
                .build()
                .start();
        int grpcPort = ((InetSocketAddress) grpc.getListenSockets().getFirst()).getPort();
        clients.update(MeshConfigLoader.parse(
                """
                extensionProviders:
                  - name: all-headers
                    envoyExtAuthzHttp:
                      service: %1$s
                      port: %2$d
                      timeout: 3s
                  - name: listed-headers
                    envoyExtAuthzHttp:
                      service: %1$s
                      port: %2$d
                      timeout: 3s
                      headersToUpstreamOnAllow: ["x-user", "X-Roles", "host", ":authority", "content-length"]
                      headersToDownstreamOnDeny: ["set-cookie", "x-reason", "transfer-encoding", "connection"]
                      headersToDownstreamOnAllow: ["x-trace", "content-length"]
                  - name: grpc
                    envoyExtAuthzGrpc:
                      service: %3$s
                      port: %4$d
                      timeout: 3s
                """.formatted(http.address.getHostAddress(), http.port(), TestNet.ip("127.93.7.72"), grpcPort),
                "mesh.yaml"));
        denial = Class.forName("io.ambit.waypoint.stages.ExtAuthzStage")
                .getDeclaredMethod("denial", ExtAuthzVerdict.class);
        denial.setAccessible(true);
    }

    @AfterContainer
    static void stop() throws Exception {
        if (clients != null) {
            clients.close();
        }
        if (grpc != null) {
            grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (http != null) {
            http.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    // ---- the HTTP provider ----

    @Property(seed = FuzzInputs.SEED, tries = 400)
    void anHttpProvidersAnswerIsAVerdictThatCannotSmuggle(
            @ForAll("httpAnswers") HttpAnswer answer, @ForAll boolean listed) throws Exception {
        http.answer = answer.bytes();
        ExtAuthzVerdict v = check(clients.client(listed ? "listed-headers" : "all-headers"));
        Statistics.label("verdict").collect(v.kind());
        Statistics.label("verdict").coverage(c -> {
            for (var k : ExtAuthzVerdict.Kind.values()) {
                c.check(k).percentage(p -> p >= 1.0);
            }
        });

        if (v.allowed()) {
            assertThat(answer.status()).as("allowed by %s", answer).isEqualTo(200);
        }
        if (answer.wellFormed()) {
            var expected = answer.status() == 200
                    ? ExtAuthzVerdict.Kind.ALLOWED
                    : answer.status() >= 500 || answer.status() < 200
                            ? ExtAuthzVerdict.Kind.ERROR
                            : ExtAuthzVerdict.Kind.DENIED;
            assertThat(v.kind()).as("verdict on %s", answer).isEqualTo(expected);
        }
        switch (v.kind()) {
            case DENIED -> {
                assertThat(v.status()).isEqualTo(answer.status());
                if (answer.wellFormed() && answer.status() != 204 && answer.status() != 304) {
                    assertThat(v.body()).isEqualTo(new String(answer.body(), StandardCharsets.UTF_8));
                }
            }
            case ERROR -> assertThat(v.status()).isEqualTo(STATUS_ON_ERROR);
            case ALLOWED -> {}
        }
        Set<String> sent = new HashSet<>(); // every name on a header line of the answer, as written
        for (String line : new String(answer.bytes(), StandardCharsets.ISO_8859_1).split("\r?\n")) {
            int colon = line.indexOf(':', 1);
            if (colon > 0) {
                sent.add(line.substring(0, colon).strip().toLowerCase(Locale.ROOT));
            }
        }
        checkChanges(v, sent);
        checkOnTheWire(v);
    }

    /** What a provider answers: status line, header lines and body as raw bytes. */
    record HttpAnswer(String statusLine, List<Map.Entry<String, String>> headers, byte[] body, boolean framed) {
        int status() {
            String first = statusLine.split("\r\n", -1)[0];
            var m = Pattern.compile("HTTP/1\\.[01] (\\d{3})( .*)?").matcher(first);
            return m.matches() ? Integer.parseInt(m.group(1)) : -1;
        }

        /**
         * Netty reads it as written: a plain status line, unique plain header names and values, one
         * content-length equal to the body, no transfer-encoding, within the size limits.
         */
        boolean wellFormed() {
            if (!framed || status() < 0 || body.length > 64 * 1024) {
                return false;
            }
            Set<String> names = new HashSet<>();
            int size = 0;
            for (var h : headers) {
                String n = h.getKey();
                if (!TOKEN.matcher(n).matches()
                        || !names.add(n)
                        || n.equals("transfer-encoding")
                        || n.equals("content-length")
                        || !h.getValue().equals(h.getValue().strip())
                        || !h.getValue().chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                    return false;
                }
                size += n.length() + h.getValue().length() + 4;
            }
            return size < 16 * 1024;
        }

        byte[] bytes() {
            var out = new ByteArrayOutputStream();
            out.writeBytes((statusLine + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            for (var h : headers) {
                out.writeBytes((h.getKey() + ": " + h.getValue() + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            if (framed) {
                out.writeBytes(("content-length: " + body.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(body);
            return out.toByteArray();
        }

        @Override
        public String toString() {
            String s = new String(bytes(), StandardCharsets.ISO_8859_1);
            return s.length() > 600 ? s.substring(0, 600) + "...(" + s.length() + " bytes)" : s;
        }
    }

    @Provide
    Arbitrary<HttpAnswer> httpAnswers() {
        Arbitrary<String> statusLine = Arbitraries.oneOf(
                Arbitraries.of(200, 200, 200, 201, 204, 205, 302, 304, 401, 403, 429, 499, 500, 503, 599, 100, 101)
                        .map(s -> "HTTP/1.1 " + s + " X"),
                Arbitraries.integers().between(100, 999).map(s -> "HTTP/1.1 " + s + " Reason"),
                Arbitraries.of(
                        "HTTP/1.0 200 OK",
                        "HTTP/1.1 200",
                        "HTTP/1.1 2000 OK",
                        "HTTP/1.1 20 OK",
                        "HTTP/2 200",
                        "HTTX/1.1 200 OK",
                        "HTTP/1.1 -200 OK",
                        "HTTP/1.1 200 OK\r\nx-injected: 1",
                        "",
                        "\u0000\u0001"));
        Arbitrary<Map.Entry<String, String>> header = Arbitraries.oneOf(
                Combinators.combine(
                                Arbitraries.of(
                                        "x-user",
                                        "X-User",
                                        "x-roles",
                                        "set-cookie",
                                        "location",
                                        "www-authenticate",
                                        "content-type",
                                        "x-reason",
                                        "x-trace",
                                        ":authority",
                                        ":status",
                                        "host",
                                        "Host",
                                        "content-length",
                                        "Content-Length",
                                        "transfer-encoding",
                                        "connection",
                                        "keep-alive",
                                        "proxy-connection",
                                        "upgrade",
                                        "te",
                                        "trailer",
                                        "expect",
                                        "x-envoy-auth-headers-to-remove",
                                        "bad name",
                                        "x:y",
                                        "x\u0000y",
                                        "é",
                                        "",
                                        "x-" + "n".repeat(300)),
                                Arbitraries.of(
                                        "alice",
                                        "a=1; Path=/",
                                        "chunked",
                                        "close",
                                        "0",
                                        "5",
                                        "-1",
                                        "5, 6",
                                        "authorization, content-length, host, x-user, :path, bad name",
                                        " padded ",
                                        "a\rb",
                                        "a\u0000b",
                                        "\u00e9\u00ff\u0080",
                                        "a\tb",
                                        "",
                                        "v".repeat(20_000)))
                        .as(Map::entry),
                Arbitraries.of(
                        Map.entry("x-folded", "a\r\n b"), // obs-fold
                        Map.entry("x-big", "b".repeat(40_000)), // over the 32 KiB header limit
                        Map.entry("x-lf", "a\nx-injected: 1")));
        Arbitrary<byte[]> body = Arbitraries.oneOf(
                Arbitraries.of("", "denied", "{\"reason\":\"no\"}", "0\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n")
                        .map(s -> s.getBytes(StandardCharsets.UTF_8)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40),
                Arbitraries.just(new byte[70_000]));
        return Combinators.combine(
                        statusLine,
                        header.list().ofMaxSize(6),
                        body,
                        Arbitraries.frequency(Tuple.of(8, true), Tuple.of(2, false)))
                .as(HttpAnswer::new);
    }

    // ---- the gRPC provider ----

    @Property(seed = FuzzInputs.SEED, tries = 400)
    void aGrpcProvidersCheckResponseIsAVerdictThatCannotSmuggle(
            @ForAll("checkResponses") CheckResponse response,
            @ForAll("edits") List<Tuple.Tuple3<Integer, Integer, Byte>> edits)
            throws Exception {
        byte[] bytes = edit(response.toByteArray(), edits);
        grpcAnswer = bytes;
        ExtAuthzVerdict v = check(clients.client("grpc"));
        Statistics.label("verdict").collect(v.kind());
        Statistics.label("verdict").coverage(c -> {
            for (var k : ExtAuthzVerdict.Kind.values()) {
                c.check(k).percentage(p -> p >= 1.0);
            }
        });

        CheckResponse parsed;
        try {
            parsed = CheckResponse.parseFrom(bytes);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            parsed = null;
        }
        // the model: unreadable or too large -> error; OK -> allowed; else denied with the denial's status (403 when
        // unset),
        // an error when that status is no HTTP status
        if (parsed == null || bytes.length > 64 * 1024) { // unreadable, or over the client's message limit
            assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        } else if (parsed.getStatus().getCode() == 0) {
            assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ALLOWED);
        } else {
            int status = parsed.hasDeniedResponse()
                            && parsed.getDeniedResponse().getStatus().getCode() > 0
                    ? parsed.getDeniedResponse().getStatus().getCode()
                    : 403;
            if (status < 200 || status > 599) {
                assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
            } else {
                assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.DENIED);
                assertThat(v.status()).isEqualTo(status);
            }
        }
        if (v.kind() == ExtAuthzVerdict.Kind.ERROR) {
            assertThat(v.status()).isEqualTo(STATUS_ON_ERROR);
            assertThat(v.allowed()).isFalse();
        }
        Set<String> sent = new HashSet<>();
        if (parsed != null) {
            var ok = parsed.getOkResponse();
            for (var o : ok.getHeadersList()) {
                sent.add(o.getHeader().getKey().toLowerCase(Locale.ROOT));
            }
            for (var o : ok.getResponseHeadersToAddList()) {
                sent.add(o.getHeader().getKey().toLowerCase(Locale.ROOT));
            }
            for (var n : ok.getHeadersToRemoveList()) {
                sent.add(n.toLowerCase(Locale.ROOT));
            }
            for (var o : parsed.getDeniedResponse().getHeadersList()) {
                sent.add(o.getHeader().getKey().toLowerCase(Locale.ROOT));
            }
        }
        checkChanges(v, sent);
        assertThat(v.queryToSet().size()).isLessThanOrEqualTo(MAX_OPS);
        assertThat(v.queryToRemove().size()).isLessThanOrEqualTo(MAX_OPS);
        checkOnTheWire(v);
    }

    @Provide
    Arbitrary<CheckResponse> checkResponses() {
        Arbitrary<String> name = Arbitraries.of(
                "x-user",
                "X-User",
                "set-cookie",
                "x-trace",
                ":authority",
                ":path",
                ":status",
                "host",
                "Host",
                "content-length",
                "transfer-encoding",
                "connection",
                "upgrade",
                "te",
                "bad name",
                "x\r\ny",
                "x:y",
                "",
                "\u00e9",
                "x-" + "n".repeat(300));
        Arbitrary<String> value = Arbitraries.of(
                "alice",
                "a\r\nx-injected: 1",
                "a\nb",
                "a\u0000b",
                "\u010a\u010d", // low bytes LF and CR: must not become them on the wire
                "\u00e9\u4e2d",
                "chunked",
                "5",
                "",
                "v".repeat(40_000));
        Arbitrary<HeaderValueOption> option = Combinators.combine(
                        name,
                        value,
                        Arbitraries.of(0, 1, 2),
                        Arbitraries.integers().between(0, 5))
                .as((n, v, append, action) -> {
                    var header = HeaderValue.newBuilder().setKey(n);
                    if (action == 5) {
                        header.setRawValue(com.google.protobuf.ByteString.copyFrom(v, StandardCharsets.UTF_8));
                    } else {
                        header.setValue(v);
                    }
                    var b = HeaderValueOption.newBuilder().setHeader(header);
                    if (append > 0) {
                        b.setAppend(BoolValue.of(append == 2));
                    }
                    return b.setAppendActionValue(action).build();
                });
        Arbitrary<List<HeaderValueOption>> options = Arbitraries.oneOf(
                option.list().ofMaxSize(4),
                option.filter(o -> o.getHeader().getValue().length() < 100)
                        .map(o -> java.util.Collections.nCopies(300, o))); // more than MAX_OPS
        Arbitrary<CheckResponse> ok = Combinators.combine(
                        options, options, name.list().ofMaxSize(3), Arbitraries.of(0, 0, 0, 1, 300))
                .as((headers, responseHeaders, remove, queries) -> {
                    var b = OkHttpResponse.newBuilder()
                            .addAllHeaders(headers)
                            .addAllResponseHeadersToAdd(responseHeaders)
                            .addAllHeadersToRemove(remove);
                    for (int i = 0; i < queries; i++) {
                        b.addQueryParametersToSet(
                                QueryParameter.newBuilder().setKey("q&x=" + i).setValue("#\r\n"));
                        b.addQueryParametersToRemove("r" + i);
                    }
                    return CheckResponse.newBuilder()
                            .setStatus(com.google.rpc.Status.newBuilder().setCode(0))
                            .setOkResponse(b)
                            .build();
                });
        Arbitrary<CheckResponse> denied = Combinators.combine(
                        Arbitraries.of(1, 7, 16, 99, -1),
                        Arbitraries.of(0, 200, 204, 205, 302, 304, 401, 403, 429, 500, 599, 600, 100, -5, 99999),
                        options,
                        Arbitraries.of("", "denied", "\u0000\r\n", "b".repeat(70_000)),
                        Arbitraries.of(true, true, false))
                .as((code, status, headers, body, withDenial) -> {
                    var b = CheckResponse.newBuilder()
                            .setStatus(com.google.rpc.Status.newBuilder().setCode(code));
                    if (withDenial) {
                        b.setDeniedResponse(DeniedHttpResponse.newBuilder()
                                .setStatus(HttpStatus.newBuilder().setCode(status))
                                .addAllHeaders(headers)
                                .setBody(body));
                    } else {
                        b.setOkResponse(OkHttpResponse.getDefaultInstance()); // not OK status, ok oneof: denies
                    }
                    return b.build();
                });
        return Arbitraries.oneOf(ok, denied);
    }

    @Provide
    Arbitrary<List<Tuple.Tuple3<Integer, Integer, Byte>>> edits() {
        var one = Combinators.combine(
                        Arbitraries.integers().between(0, 2),
                        Arbitraries.integers().between(0, 1 << 20),
                        Arbitraries.bytes())
                .as(Tuple::of);
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(List.<Tuple.Tuple3<Integer, Integer, Byte>>of())),
                Tuple.of(1, one.list().ofMinSize(1).ofMaxSize(3)));
    }

    /** Byte edits: 0 flip one, 1 insert one, 2 cut the tail. */
    private static byte[] edit(byte[] in, List<Tuple.Tuple3<Integer, Integer, Byte>> edits) {
        byte[] b = in;
        for (var e : edits) {
            int at = b.length == 0 ? 0 : Math.floorMod(e.get2(), b.length);
            byte value = e.get3();
            b = switch (e.get1()) {
                case 0 -> {
                    if (b.length == 0) {
                        yield b;
                    }
                    var c = b.clone();
                    c[at] ^= value == 0 ? 1 : value;
                    yield c;
                }
                case 1 -> {
                    var c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, at);
                    c[at] = value;
                    System.arraycopy(b, at, c, at + 1, b.length - at);
                    yield c;
                }
                default -> java.util.Arrays.copyOf(b, at);
            };
        }
        return b;
    }

    // ---- regressions and fixed cases ----

    /** A 204 denial with a body: the client must not read the body as the next response. */
    @Example
    void aNoContentDenialWithABodyIsOneResponse() throws Exception {
        http.answer = "HTTP/1.1 204 No Content\r\nx-reason: none\r\ncontent-length: 6\r\n\r\ndenied"
                .getBytes(StandardCharsets.ISO_8859_1);
        ExtAuthzVerdict v = check(clients.client("all-headers"));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.DENIED);
        assertThat(v.status()).isEqualTo(204);
        checkOnTheWire(v);
    }

    /** A gRPC denial with 204 or 304 and a body: one response, the body cannot become the next one. */
    @Example
    void aGrpcDenialWithoutRoomForABodyIsOneResponse() throws Exception {
        for (int status : new int[] {204, 304}) {
            grpcAnswer = CheckResponse.newBuilder()
                    .setStatus(com.google.rpc.Status.newBuilder().setCode(7))
                    .setDeniedResponse(DeniedHttpResponse.newBuilder()
                            .setStatus(HttpStatus.newBuilder().setCode(status))
                            .setBody("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"))
                    .build()
                    .toByteArray();
            ExtAuthzVerdict v = check(clients.client("grpc"));
            assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.DENIED);
            assertThat(v.status()).isEqualTo(status);
            checkOnTheWire(v);
        }
    }

    /**
     * Regression: a header given only as raw_value (as servers built on newer Envoy APIs send it) was set with
     * an empty value; now its bytes are the value, under the same checks (CR/LF refused).
     */
    @Example
    void aRawValueIsTheHeadersValue() throws Exception {
        grpcAnswer = CheckResponse.newBuilder()
                .setStatus(com.google.rpc.Status.newBuilder().setCode(0))
                .setOkResponse(OkHttpResponse.newBuilder()
                        .addHeaders(HeaderValueOption.newBuilder()
                                .setHeader(HeaderValue.newBuilder()
                                        .setKey("x-user")
                                        .setRawValue(com.google.protobuf.ByteString.copyFromUtf8("alice"))))
                        .addHeaders(HeaderValueOption.newBuilder()
                                .setHeader(HeaderValue.newBuilder()
                                        .setKey("x-roles")
                                        .setRawValue(com.google.protobuf.ByteString.copyFromUtf8(
                                                "admin\r\nx-injected: 1")))))
                .build()
                .toByteArray();
        ExtAuthzVerdict v = check(clients.client("grpc"));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ALLOWED);
        assertThat(v.upstream()).containsExactly(new HeaderOp("x-user", "alice", HeaderOp.Action.SET));
        checkOnTheWire(v);
    }

    /** A value whose characters' low bytes are LF and CR must not split the header on the wire. */
    @Example
    void aGrpcHeaderValueBeyondLatin1CannotSplitAHeader() throws Exception {
        grpcAnswer = CheckResponse.newBuilder()
                .setStatus(com.google.rpc.Status.newBuilder().setCode(7))
                .setDeniedResponse(DeniedHttpResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(403))
                        .addHeaders(HeaderValueOption.newBuilder()
                                .setHeader(HeaderValue.newBuilder()
                                        .setKey("x-reason")
                                        .setValue("a\u010d\u010ax-injected: 1"))))
                .build()
                .toByteArray();
        ExtAuthzVerdict v = check(clients.client("grpc"));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.DENIED);
        checkOnTheWire(v);
    }

    // ---- checks ----

    private static ExtAuthzVerdict check(ExtAuthzClient client) {
        try {
            return client.check(input()).toCompletableFuture().get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the check did not complete with a verdict", e);
        }
    }

    /** Every header change is safe to write, came from the answer, and each list is bounded. */
    private static void checkChanges(ExtAuthzVerdict v, Set<String> sent) {
        for (List<HeaderOp> ops : List.of(v.upstream(), v.downstream())) {
            assertThat(ops.size()).isLessThanOrEqualTo(MAX_OPS);
            for (HeaderOp op : ops) {
                assertThat(op.name()).as("header name").matches(TOKEN).isNotIn(FORBIDDEN);
                assertThat(op.value().chars().allMatch(c -> (c >= 0x20 || c == '\t') && c != 0x7f))
                        .as("value of %s stays on its line: %s", op.name(), op.value())
                        .isTrue();
                assertThat(sent).as("headers the provider sent").contains(op.name());
            }
        }
        assertThat(v.upstreamRemove().size()).isLessThanOrEqualTo(MAX_OPS);
        for (String n : v.upstreamRemove()) {
            assertThat(n).matches(TOKEN).isNotIn(FORBIDDEN);
        }
    }

    /**
     * The verdict as the client and the upstream get it over HTTP/1.1: the denial (as the ext_authz stage
     * builds it, through {@link Replies}) and, for an allow, a request with its header changes, each
     * encoded by Netty's encoder and followed by a sentinel message: decoding must give exactly the message
     * and then the sentinel, intact.
     */
    private static void checkOnTheWire(ExtAuthzVerdict v) throws Exception {
        if (!v.allowed()) {
            LocalReply reply = (LocalReply) denial.invoke(null, v);
            {
                boolean grpcClient = false; // gRPC runs over HTTP/2 only: its trailers-only form is not HTTP/1.1
                FullHttpResponse response = Replies.toResponse(reply, grpcClient, false, ByteBufAllocator.DEFAULT);
                ByteBuf wire = encode(new HttpResponseEncoder(), response);
                wire.writeBytes(
                        "HTTP/1.1 299 Sentinel\r\ncontent-length: 4\r\n\r\nnext".getBytes(StandardCharsets.US_ASCII));
                var in = new EmbeddedChannel(
                        new HttpResponseDecoder(4096, 1 << 20, 8192), new HttpObjectAggregator(1 << 20));
                try {
                    in.writeInbound(wire);
                    FullHttpResponse first = in.readInbound();
                    FullHttpResponse second = in.readInbound();
                    try {
                        assertThat(first).as("the denial").isNotNull();
                        assertThat(first.decoderResult().isSuccess())
                                .as("%s", first.decoderResult())
                                .isTrue();
                        assertThat(first.status().code()).isEqualTo(grpcClient ? 200 : v.status());
                        for (var h : first.headers()) {
                            assertThat(h.getKey().toLowerCase(Locale.ROOT)).isNotEqualTo("x-injected");
                        }
                        assertThat(second).as("the response after the denial").isNotNull();
                        assertThat(second.status().code()).isEqualTo(299);
                        assertThat(second.content().toString(StandardCharsets.US_ASCII))
                                .isEqualTo("next");
                        Object third = in.readInbound();
                        assertThat(third).as("anything after the sentinel").isNull();
                    } finally {
                        release(first);
                        release(second);
                    }
                } finally {
                    in.finishAndReleaseAll();
                }
            }
            return;
        }
        FullHttpRequest request = new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1,
                HttpMethod.POST,
                "/pay",
                Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII));
        request.headers().set("host", "payments.shop").set("content-length", 4).set("x-user", "mallory");
        for (HeaderOp op : v.upstream()) {
            op.apply(request.headers());
        }
        for (String n : v.upstreamRemove()) {
            request.headers().remove(n);
        }
        ByteBuf wire = encode(new HttpRequestEncoder(), request);
        wire.writeBytes("GET /sentinel HTTP/1.1\r\nhost: s\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        var in = new EmbeddedChannel(new HttpRequestDecoder(4096, 1 << 20, 8192), new HttpObjectAggregator(1 << 20));
        try {
            in.writeInbound(wire);
            FullHttpRequest first = in.readInbound();
            FullHttpRequest second = in.readInbound();
            try {
                assertThat(first.decoderResult().isSuccess())
                        .as("%s", first.decoderResult())
                        .isTrue();
                assertThat(first.uri()).isEqualTo("/pay");
                assertThat(first.content().toString(StandardCharsets.US_ASCII)).isEqualTo("body");
                assertThat(first.headers().contains("x-injected")).isFalse();
                assertThat(second.uri()).isEqualTo("/sentinel");
            } finally {
                release(first);
                release(second);
            }
        } finally {
            in.finishAndReleaseAll();
        }
    }

    private static ByteBuf encode(io.netty.channel.ChannelHandler encoder, Object message) {
        var out = new EmbeddedChannel(encoder);
        try {
            out.writeOutbound(message);
            ByteBuf wire = Unpooled.buffer();
            ByteBuf b;
            while ((b = out.readOutbound()) != null) {
                wire.writeBytes(b);
                b.release();
            }
            return wire;
        } finally {
            out.finishAndReleaseAll();
        }
    }

    private static void release(Object o) {
        if (o instanceof io.netty.util.ReferenceCounted r && r.refCnt() > 0) {
            r.release();
        }
    }

    private static CheckInput input() {
        return CheckInput.builder()
                .request("POST", "http", "payments.shop", "/pay?amount=10", "HTTP/1.1")
                .headers(Map.of("x-user", List.of("mallory"), "authorization", List.of("Bearer t")))
                .source(new InetSocketAddress("10.1.2.3", 50000), "spiffe://cluster.local/ns/shop/sa/web")
                .destination(new InetSocketAddress("10.9.9.9", 8080), "spiffe://cluster.local/ns/shop/sa/waypoint")
                .requestId("req-1")
                .time(Instant.parse("2026-03-01T12:00:00Z"))
                .build();
    }

    /**
     * A provider that reads each check request (its head and content-length body) and writes the bytes
     * of {@link #answer} back, then closes the connection: one answer per connection, on virtual threads.
     */
    static final class RawHttpProvider implements AutoCloseable {
        final InetAddress address;
        final ServerSocket socket;
        volatile byte[] answer = new byte[0];
        private final Thread acceptor;

        RawHttpProvider(InetAddress address) throws IOException {
            this.address = address;
            this.socket = new ServerSocket(0, 50, address);
            this.acceptor = Thread.ofVirtual().name("raw-authz").start(this::acceptLoop);
        }

        int port() {
            return socket.getLocalPort();
        }

        private void acceptLoop() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                s.setSoTimeout(10_000);
                var in = s.getInputStream();
                var head = new ByteArrayOutputStream();
                int matched = 0;
                while (matched < 4 && head.size() < 64 * 1024) {
                    int c = in.read();
                    if (c < 0) {
                        return;
                    }
                    head.write(c);
                    matched = c == "\r\n\r\n".charAt(matched) ? matched + 1 : c == '\r' ? 1 : 0;
                }
                var m = Pattern.compile("(?im)^content-length:\\s*(\\d+)")
                        .matcher(head.toString(StandardCharsets.ISO_8859_1));
                if (m.find()) {
                    in.readNBytes(Integer.parseInt(m.group(1)));
                }
                s.getOutputStream().write(answer);
                s.getOutputStream().flush();
                s.shutdownOutput();
            } catch (IOException e) {
                // the client went away (a timeout, a refused answer): nothing to do
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
            try {
                acceptor.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
