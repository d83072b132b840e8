package io.ambit.hbone.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.RawH2Client;
import io.ambit.hbone.testsupport.RawTls;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.UpstreamConnector;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
 * Whole CONNECT header sets as a peer sends them (the parsers of authority, forwarded, baggage and
 * traceparent are fuzzed one by one elsewhere): over TLS with a real client certificate, through a raw
 * Netty HTTP/2 client (frames written with Netty's frame writer and HPACK encoder, nothing validated on
 * our side) against the real {@code HboneServer}. Each try opens a connection, sends one to three hostile
 * heads on streams 1, 3, 5 — duplicate, misplaced, unknown, missing or upper-case pseudo-headers, a
 * {@code :path}/{@code :scheme}/{@code :protocol} on CONNECT, other methods, bad and unreachable
 * authorities, connection-specific fields, {@code te} other than trailers, values with NUL/CR/LF or
 * padding, upper-case names, hostile or huge {@code baggage}/{@code forwarded}/{@code traceparent}, header
 * lists over the 64 KiB limit — then one good CONNECT.
 *
 * <p>What must hold: each hostile head gets, on its own stream, exactly what ztunnel-reference.md §2.4 and
 * RFC 9113 §8.1.1 say, computed here independently: malformed → 400 and/or RST_STREAM(PROTOCOL_ERROR);
 * not CONNECT or an unparsable authority → 400; an unreachable target → 503; a well-formed CONNECT to the
 * echo server → 200 whatever its metadata headers hold; over the header-list limit → 431 or a reset. The
 * connection survives every one of them (no GOAWAY): the good CONNECT after them gets 200. The handler is
 * asked only about well-formed CONNECTs. Netty's paranoid leak detector watches every buffer.
 */
class ConnectHeadsFuzzTest {
    private static final String ADDRESS = "127.73.4.1";

    private static TestLoops loops;
    private static TcpServer echo;
    private static UpstreamConnector handler;
    private static HboneFixture hbone;
    private static String good;
    private static final String UNREACHABLE = "127.73.4.9:1"; // nothing listens there

    enum Expect {
        MALFORMED,
        BAD_REQUEST,
        TOO_LARGE,
        UNREACHABLE,
        TUNNEL
    }

    @BeforeContainer
    static void start() throws Exception {
        loops = TestLoops.start();
        echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
        handler = new UpstreamConnector(loops.transport);
        hbone = HboneFixture.builder(loops, handler)
                .serverConfig(HboneServerConfig.defaults(new InetSocketAddress(ADDRESS, 0)))
                .start();
        good = io.ambit.hbone.server.Authority.of(echo.address()).toString();
    }

    @AfterContainer
    static void stop() {
        if (hbone != null) {
            hbone.close();
        }
        if (echo != null) {
            echo.close();
        }
        if (loops != null) {
            loops.close();
        }
    }

    @Property(seed = FuzzInputs.SEED, tries = 250)
    void everyHeadGetsItsStatusOrAResetAndTheConnectionCarriesOn(
            @ForAll("heads") List<List<Map.Entry<String, String>>> heads) throws Exception {
        for (var head : heads) {
            Statistics.label("expected").collect(model(head));
        }
        Statistics.label("expected").coverage(c -> {
            for (Expect x : Expect.values()) {
                c.check(x).percentage(p -> p >= (x == Expect.TOO_LARGE ? 0.5 : 1.0));
            }
        });
        send(heads);
    }

    /** Sends the heads on a new connection, then a good CONNECT; checks every answer. */
    private static void send(List<List<Map.Entry<String, String>>> heads) throws Exception {
        SslContext tls = RawTls.client(hbone.clientCert, null, "TLSv1.3");
        RawH2Client client = RawH2Client.connect(loops, hbone.server.localAddress(), tls);
        try {
            int stream = 1;
            for (var head : heads) {
                Expect expect = model(head);
                int callsBefore = handler.calls.get();
                client.headers(stream, headers(head), false);
                String outcome = outcome(client, stream);
                assertThat(outcome)
                        .as("answer to %s (expected %s)", shown(head), expect)
                        .isIn(allowed(expect));
                if (expect != Expect.TUNNEL && expect != Expect.UNREACHABLE) {
                    assertThat(handler.calls.get())
                            .as("handler asked about %s", shown(head))
                            .isEqualTo(callsBefore);
                }
                stream += 2;
            }
            client.headers(stream, RawH2Client.connect(good), false);
            assertThat(outcome(client, stream))
                    .as("the good CONNECT after the hostile ones")
                    .isEqualTo("200");
            assertThat(client.goAway).as("the connection is not ended").isNotDone();
        } finally {
            client.close();
            ReferenceCountUtil.release(tls);
        }
    }

    private static Set<String> allowed(Expect e) {
        return switch (e) {
            case MALFORMED -> Set.of("400+RST", "RST");
            case BAD_REQUEST -> Set.of("400");
            case TOO_LARGE -> Set.of("431", "RST", "431+RST");
            case UNREACHABLE -> Set.of("503");
            case TUNNEL -> Set.of("200");
        };
    }

    /**
     * What came back on {@code stream}: "200", "400", "400+RST" (a status, then a reset), "RST", ... A
     * final status other than 200 is read with whatever reset follows it; events of other streams are
     * skipped. Bounded by the client's wait.
     */
    private static String outcome(RawH2Client client, int stream) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String status = null;
        while (System.nanoTime() < deadline) {
            RawH2Client.Event e = client.events.poll(status == null ? 500 : 200, TimeUnit.MILLISECONDS);
            if (e == null) {
                if (status != null) {
                    return status; // nothing more after the status
                }
                assertThat(client.goAway)
                        .as("GOAWAY while waiting on stream %d", stream)
                        .isNotDone();
                continue;
            }
            if (e instanceof RawH2Client.Headers h && h.streamId() == stream) {
                status = h.headers().status().toString();
                if (status.equals("200")) {
                    return status;
                }
            } else if (e instanceof RawH2Client.Reset r && r.streamId() == stream) {
                if (status == null) {
                    assertThat(r.errorCode())
                            .as("reset code")
                            .isIn(Http2Error.PROTOCOL_ERROR.code(), Http2Error.REFUSED_STREAM.code());
                    return "RST";
                }
                return status + "+RST";
            } else if (e instanceof RawH2Client.GoAway g) {
                throw new AssertionError("GOAWAY (error " + g.errorCode() + ") while waiting on stream " + stream);
            }
        }
        throw new AssertionError("no answer on stream " + stream + " within 20 s");
    }

    /** RFC 9113 §8.1.1/§8.2/§8.3/§8.5 and ztunnel-reference.md §2.4, written here independently of the server. */
    static Expect model(List<Map.Entry<String, String>> head) {
        long size = 0;
        for (var h : head) {
            size += h.getKey().length() + h.getValue().length() + 32; // RFC 9113 §6.5.2's header list size
        }
        if (size > 64 * 1024) {
            return Expect.TOO_LARGE;
        }
        Set<String> pseudo = new HashSet<>();
        boolean regularSeen = false;
        String method = null;
        String authority = null;
        for (var h : head) {
            String n = h.getKey();
            String v = h.getValue();
            if (n.isEmpty()
                    || !v.chars().allMatch(c -> c != 0 && c != '\r' && c != '\n')
                    || (!v.isEmpty() && (isSpace(v.charAt(0)) || isSpace(v.charAt(v.length() - 1))))) {
                return Expect.MALFORMED;
            }
            if (n.startsWith(":")) {
                if (regularSeen
                        || !pseudo.add(n)
                        || !Set.of(":method", ":authority", ":scheme", ":path", ":protocol")
                                .contains(n)) {
                    return Expect.MALFORMED;
                }
                if (n.equals(":method")) {
                    method = v;
                } else if (n.equals(":authority")) {
                    authority = v;
                }
                continue;
            }
            regularSeen = true;
            if (!n.chars()
                            .allMatch(c -> (c >= 'a' && c <= 'z')
                                    || (c >= '0' && c <= '9')
                                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0)
                    || Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade")
                            .contains(n)
                    || (n.equals("te") && !v.equals("trailers"))) {
                return Expect.MALFORMED;
            }
        }
        if (method == null) {
            return Expect.MALFORMED;
        }
        if (method.equals("CONNECT")) {
            // RFC 9113 §8.5: :authority holds the host and port; an empty one is malformed
            if (authority == null
                    || authority.isEmpty()
                    || pseudo.contains(":scheme")
                    || pseudo.contains(":path")
                    || pseudo.contains(":protocol")) {
                return Expect.MALFORMED;
            }
        } else {
            if (!pseudo.contains(":scheme")
                    || !pseudo.contains(":path")
                    || pseudo.contains(":protocol")
                    || head.stream()
                            .anyMatch(h ->
                                    h.getKey().equals(":path") && h.getValue().isEmpty())) {
                return Expect.MALFORMED;
            }
            return Expect.BAD_REQUEST;
        }
        if (authority.equals(good)) {
            return Expect.TUNNEL;
        }
        return authority.equals(UNREACHABLE) ? Expect.UNREACHABLE : Expect.BAD_REQUEST;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t';
    }

    // ---- inputs ----

    @Provide
    Arbitrary<List<List<Map.Entry<String, String>>>> heads() {
        return head().list().ofMinSize(1).ofMaxSize(3);
    }

    private Arbitrary<List<Map.Entry<String, String>>> head() {
        Arbitrary<Tuple.Tuple3<Integer, Integer, Integer>> edit = Combinators.combine(
                        Arbitraries.frequency(
                                Tuple.of(1, 0),
                                Tuple.of(1, 1),
                                Tuple.of(3, 2),
                                Tuple.of(5, 3),
                                Tuple.of(1, 4),
                                Tuple.of(2, 5),
                                Tuple.of(1, 6),
                                Tuple.of(4, 7),
                                Tuple.of(1, 8),
                                Tuple.of(1, 9)),
                        Arbitraries.integers().between(0, 100),
                        Arbitraries.integers().between(0, 100))
                .as(Tuple::of);
        return edit.list().ofMaxSize(3).map(edits -> {
            List<Map.Entry<String, String>> h = base();
            for (var e : edits) {
                apply(h, e.get1(), e.get2(), e.get3());
            }
            // One huge value at most: Netty ends the whole connection (COMPRESSION_ERROR) for a header list
            // over 1.25 times the limit, which is its defence, not a CONNECT head this test can learn from.
            boolean huge = false;
            for (int i = 0; i < h.size(); i++) {
                if (h.get(i).getValue().length() > 30_000) {
                    if (huge) {
                        h.set(i, Map.entry(h.get(i).getKey(), "x"));
                    }
                    huge = true;
                }
            }
            return h;
        });
    }

    private static List<Map.Entry<String, String>> base() {
        var h = new ArrayList<Map.Entry<String, String>>();
        h.add(Map.entry(":method", "CONNECT"));
        h.add(Map.entry(":authority", good));
        h.add(Map.entry("forwarded", "for=\"10.0.0.9:41234\";host=httpbin.default.svc.cluster.local"));
        h.add(Map.entry("baggage", "k8s.namespace.name=default,service.name=sleep"));
        h.add(Map.entry("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        return h;
    }

    private static final String[] PSEUDO = {":method", ":authority", ":path", ":scheme", ":protocol", ":status", ":foo"
    };
    private static final String[] METHODS = {"CONNECT", "GET", "connect", "CONNECT ", "", "POST", "CONNECTX"};
    private static final String[] AUTHORITIES = {
        UNREACHABLE,
        UNREACHABLE,
        UNREACHABLE,
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "::1:80",
        "[::1:80",
        "user@127.0.0.1:80",
        "127.0.0.010:80",
        "bad host:80",
        "",
        " 127.0.0.1:80",
        "127.0.0.1:80\u0000",
        "127.0.0.1:-1",
        "[::1]:99999"
    };
    private static final String[] REGULAR = {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "te",
        "host",
        "Baggage",
        "X-Upper",
        "x y",
        "",
        "x-ok",
        "forwarded",
        "baggage",
        "traceparent"
    };
    private static final String[] VALUES = {
        "trailers",
        "gzip",
        "x",
        "",
        " padded",
        "padded\t",
        "a\u0000b",
        "a\r\nx-injected: 1",
        "for=\"[::1\"",
        "for=unknown;by=x;proto=https;host=\"a b\"",
        "=,,a=%zz,=b;;",
        "00-00000000000000000000000000000000-0000000000000000-01",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "k=" + "v".repeat(20_000),
        "a=1,".repeat(3_000),
        "for=1.2.3.4, ".repeat(2_000),
        "x".repeat(70 * 1024)
    };

    /** One edit of a head: 0-9 pick what to change, {@code a} and {@code b} pick where and with what. */
    private static void apply(List<Map.Entry<String, String>> h, int kind, int a, int b) {
        switch (kind) {
            case 0 ->
                h.add(Math.min(a % 3, h.size()), Map.entry(PSEUDO[b % PSEUDO.length], pseudoValue(b))); // extra pseudo
            case 1 -> h.add(Map.entry(PSEUDO[a % 2], pseudoValue(b))); // a pseudo-header after regular ones
            case 2 -> set(h, ":method", METHODS[a % METHODS.length]);
            case 3 -> set(h, ":authority", AUTHORITIES[a % AUTHORITIES.length]);
            case 4 -> h.removeIf(e -> e.getKey().equals(a % 2 == 0 ? ":authority" : ":method"));
            case 5 -> h.add(Map.entry(REGULAR[a % REGULAR.length], VALUES[b % VALUES.length]));
            case 6 -> {
                int i = a % h.size();
                var e = h.get(i);
                h.set(i, Map.entry(e.getKey().toUpperCase(java.util.Locale.ROOT), e.getValue()));
            }
            case 7 -> set(h, List.of("baggage", "forwarded", "traceparent").get(a % 3), VALUES[b % VALUES.length]);
            case 8 -> {
                if (h.size() > 1) {
                    h.remove(a % h.size()); // anything missing
                }
            }
            default -> h.add(Map.entry(":authority", good)); // a duplicate of a good pseudo-header
        }
    }

    private static String pseudoValue(int b) {
        return switch (b % 4) {
            case 0 -> "/";
            case 1 -> "https";
            case 2 -> good;
            default -> "websocket";
        };
    }

    private static void set(List<Map.Entry<String, String>> h, String name, String value) {
        for (int i = 0; i < h.size(); i++) {
            if (h.get(i).getKey().equals(name)) {
                h.set(i, Map.entry(name, value));
                return;
            }
        }
        h.add(name.startsWith(":") ? 0 : h.size(), Map.entry(name, value));
    }

    private static Http2Headers headers(List<Map.Entry<String, String>> head) {
        var out = new DefaultHttp2Headers(false); // no validation here: the server is what is tested
        for (var e : head) {
            out.add(e.getKey(), e.getValue());
        }
        return out;
    }

    private static String shown(List<Map.Entry<String, String>> head) {
        var parts = new ArrayList<String>();
        for (var e : head) {
            String v = e.getValue().length() > 60
                    ? e.getValue().substring(0, 60) + "...(" + e.getValue().length() + ")"
                    : e.getValue();
            parts.add(e.getKey() + ": "
                    + v.replace("\r", "\\r").replace("\n", "\\n").replace("\u0000", "\\0"));
        }
        return parts.toString();
    }

    // ---- examples ----

    /** A duplicate :authority naming another target is malformed, never a second destination. */
    @Example
    void aDuplicateAuthorityIsMalformedNotASecondTarget() throws Exception {
        var head = base();
        head.add(1, Map.entry(":authority", UNREACHABLE));
        assertThat(model(head)).isEqualTo(Expect.MALFORMED);
        send(List.of(head));
    }

    /** Baggage of 20 KB (within the header-list limit) is parsed within its bounds: the tunnel opens. */
    @Example
    void hugeBaggageStillTunnels() throws Exception {
        var head = base();
        set(head, "baggage", "a=1,".repeat(5_000));
        assertThat(model(head)).isEqualTo(Expect.TUNNEL);
        send(List.of(head));
    }
}
