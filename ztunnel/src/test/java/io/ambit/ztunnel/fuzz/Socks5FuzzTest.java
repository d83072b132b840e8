package io.ambit.ztunnel.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.match.IpAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * ztunnel's SOCKS5 handshake (15080, issue 4: "SOCKS5 garbage ... a clear error, nothing crashes") on an
 * {@link EmbeddedChannel}, fed valid handshakes with random edits and plain random bytes, in one piece and
 * in random pieces. Whatever arrives, the result is exactly what RFC 1928 and the handler's contract say,
 * computed here independently: a request for the right address and port with every later byte passed on
 * unchanged, or the RFC reply code for the first problem and a closed connection, or (for a prefix) a wait
 * for more — and every buffer is released.
 *
 * <p>The handler is package-private in {@code io.ambit.ztunnel.outbound}; the fuzz tests live in their own
 * package, so it is built reflectively (its receiver interface through a {@link Proxy}).
 */
class Socks5FuzzTest {
    private static final HexFormat HEX = HexFormat.of();

    @Property(seed = FuzzInputs.SEED)
    void theHandshakeEndsAsRfc1928Says(@ForAll("handshakes") byte[] input, @ForAll("cuts") List<Integer> cuts) {
        String expected = model(input);
        String actual = run(input, cuts);

        assertThat(actual).as("input %s", HEX.formatHex(input)).isEqualTo(expected);
        Statistics.label("outcome").collect(expected.substring(0, expected.indexOf(' ')));
        Statistics.label("outcome").coverage(c -> {
            c.check("REQUEST").percentage(p -> p >= 1.0);
            c.check("CLOSED").percentage(p -> p >= 1.0);
        });
    }

    /** What the handler did: "REQUEST host:port early=<hex> replies=<hex>", "CLOSED replies=..." or "WAITING ...". */
    private static String run(byte[] input, List<Integer> cuts) {
        List<String> requests = new ArrayList<>();
        ByteArrayOutputStream early = new ByteArrayOutputStream();
        EmbeddedChannel channel = new EmbeddedChannel(handshake(requests), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                try {
                    early.writeBytes(ByteBufUtil.getBytes(b));
                } finally {
                    b.release();
                }
            }
        });
        List<ByteBuf> written = new ArrayList<>();
        int from = 0;
        List<Integer> points = new ArrayList<>(cuts.stream()
                .sorted()
                .distinct()
                .filter(c -> c > 0 && c < input.length)
                .toList());
        points.add(input.length);
        for (int to : points) {
            if (!channel.isOpen() || to == from) {
                break; // (nothing to send: an empty input)
            }
            ByteBuf buf = Unpooled.copiedBuffer(input, from, to - from);
            written.add(buf);
            channel.writeInbound(buf);
            from = to;
        }
        StringBuilder replies = new StringBuilder();
        Object out;
        while ((out = channel.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) out;
            replies.append(HEX.formatHex(ByteBufUtil.getBytes(b)));
            b.release();
        }
        boolean open = channel.isOpen();
        channel.checkException(); // nothing thrown inside the pipeline
        channel.finishAndReleaseAll();
        for (ByteBuf b : written) {
            assertThat(b.refCnt()).as("released input").isZero();
        }
        if (!requests.isEmpty()) {
            assertThat(requests).hasSize(1);
            return "REQUEST " + requests.getFirst() + " early=" + HEX.formatHex(early.toByteArray()) + " replies="
                    + replies;
        }
        assertThat(early.size()).as("nothing passed on without a request").isZero();
        return (open ? "WAITING" : "CLOSED") + " replies=" + replies;
    }

    /** RFC 1928 as the handler documents it, written independently of the handler. */
    static String model(byte[] b) {
        if (b.length < 2) {
            return "WAITING replies=";
        }
        if (b[0] != 5) {
            return "CLOSED replies="; // not SOCKS5: closed without a reply
        }
        int methods = b[1] & 0xff;
        if (b.length < 2 + methods) {
            return "WAITING replies=";
        }
        boolean noAuth = false;
        for (int i = 0; i < methods; i++) {
            noAuth |= b[2 + i] == 0;
        }
        if (!noAuth) {
            return "CLOSED replies=05ff";
        }
        String greeting = "0500";
        int r = 2 + methods;
        if (b.length - r < 5) {
            return "WAITING replies=" + greeting;
        }
        int type = b[r + 3] & 0xff;
        if (b[r] != 5) {
            return failed(greeting, 0x01);
        }
        if (b[r + 1] != 1) {
            return failed(greeting, 0x07);
        }
        int addressLength = type == 1 ? 4 : type == 4 ? 16 : type == 3 ? 1 + (b[r + 4] & 0xff) : -1;
        if (addressLength < 0) {
            return failed(greeting, 0x08);
        }
        if (b.length - r < 4 + addressLength + 2) {
            return "WAITING replies=" + greeting;
        }
        int a = r + 4;
        int portAt = a + addressLength;
        int port = ((b[portAt] & 0xff) << 8) | (b[portAt + 1] & 0xff);
        String host;
        if (type == 3) {
            host = new String(b, a + 1, addressLength - 1, StandardCharsets.US_ASCII);
            if (host.isEmpty() || !host.chars().allMatch(Socks5FuzzTest::hostChar)) {
                return failed(greeting, 0x04);
            }
        } else {
            byte[] raw = java.util.Arrays.copyOfRange(b, a, a + addressLength);
            IpAddress ip = ip(raw);
            host = ip.isV4() ? ip.toString() : "[" + ip + "]";
        }
        if (port == 0) {
            return failed(greeting, 0x01);
        }
        byte[] rest = java.util.Arrays.copyOfRange(b, portAt + 2, b.length);
        return "REQUEST " + host + ":" + port + " early=" + HEX.formatHex(rest) + " replies=" + greeting;
    }

    private static boolean hostChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || ".:-[]".indexOf(c) >= 0;
    }

    private static String failed(String greeting, int code) {
        return "CLOSED replies=" + greeting + String.format("05%02x0001000000000000", code);
    }

    private static IpAddress ip(byte[] raw) {
        try {
            return IpAddress.of(InetAddress.getByAddress(raw)).unmap();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ChannelHandler handshake(List<String> requests) {
        try {
            Class<?> handler = Class.forName("io.ambit.ztunnel.outbound.Socks5Handshake");
            Class<?> receiver = Class.forName("io.ambit.ztunnel.outbound.Socks5Handshake$Receiver");
            Object r = Proxy.newProxyInstance(
                    receiver.getClassLoader(), new Class<?>[] {receiver}, (p, m, args) -> switch (m.getName()) {
                        case "onRequest" -> {
                            requests.add(args[1].toString());
                            yield null;
                        }
                        case "hashCode" -> System.identityHashCode(p);
                        case "equals" -> p == args[0];
                        default -> "receiver";
                    });
            Constructor<?> c = handler.getDeclaredConstructor(receiver, Duration.class);
            c.setAccessible(true);
            return (ChannelHandler) c.newInstance(r, Duration.ofSeconds(10));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Socks5Handshake moved or changed its constructor", e);
        }
    }

    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(0, 600).list().ofMaxSize(5);
    }

    @Provide
    Arbitrary<byte[]> handshakes() {
        Arbitrary<byte[]> greeting = Arbitraries.of(
                new byte[] {5, 1, 0},
                new byte[] {5, 2, 2, 0},
                new byte[] {5, 1, 2},
                new byte[] {4, 1, 0},
                new byte[] {5, 0},
                new byte[] {5, 3, 1, 2, 0});
        Arbitrary<byte[]> address = Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofSize(4).map(a -> concat(new byte[] {1}, a)),
                Arbitraries.bytes().array(byte[].class).ofSize(16).map(a -> concat(new byte[] {4}, a)),
                Arbitraries.of("httpbin.default", "a", "[::1]", "bad host", "x\u0000y", "", "h\u00e9")
                        .map(h -> {
                            byte[] name = h.getBytes(StandardCharsets.ISO_8859_1);
                            return concat(new byte[] {3, (byte) name.length}, name);
                        }),
                Arbitraries.of(new byte[] {2}, new byte[] {0}, new byte[] {(byte) 0xff}));
        Arbitrary<byte[]> request = Combinators.combine(
                        Arbitraries.of(
                                new byte[] {5, 1, 0}, new byte[] {5, 2, 0}, new byte[] {4, 1, 0}, new byte[] {5, 1, 9}),
                        address,
                        Arbitraries.of(new byte[] {0, 80}, new byte[] {0, 0}, new byte[] {(byte) 0xff, (byte) 0xff}),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(8))
                .as((head, addr, port, tail) -> concat(head, addr, port, tail));
        Arbitrary<byte[]> valid = Combinators.combine(greeting, request).as(Socks5FuzzTest::concat);
        Arbitrary<byte[]> edited = Combinators.combine(
                        valid,
                        Arbitraries.integers().between(0, 40),
                        Arbitraries.bytes(),
                        Arbitraries.integers().between(0, 2))
                .as((v, at, value, kind) -> {
                    int i = Math.min(at, v.length);
                    return switch (kind) {
                        case 0 ->
                            concat(
                                    java.util.Arrays.copyOf(v, i),
                                    new byte[] {value},
                                    java.util.Arrays.copyOfRange(v, i, v.length));
                        case 1 ->
                            i < v.length
                                    ? concat(
                                            java.util.Arrays.copyOf(v, i),
                                            java.util.Arrays.copyOfRange(v, i + 1, v.length))
                                    : v;
                        default -> java.util.Arrays.copyOf(v, i);
                    };
                });
        return Arbitraries.oneOf(
                valid, edited, Arbitraries.bytes().array(byte[].class).ofMaxSize(40));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
