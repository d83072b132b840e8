package io.ambit.ztunnel.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.io.DataOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Garbage at a running DNS proxy over real sockets (127.150.1.1): random datagrams, truncated headers,
 * compression pointer loops, counts far beyond the packet, a query without a question; garbage and
 * over-long frames over TCP; more TCP connections than allowed. After each, the proxy still answers dig.
 */
class DnsGarbageTest {
    static final HexFormat HEX = HexFormat.of();
    Transport transport;
    EventLoopGroup group;
    DnsProxy.Shared shared;
    DnsProxy proxy;

    @BeforeEach
    void start() throws Exception {
        Dig.binary();
        transport = Transports.select();
        group = transport.newEventLoopGroup(1, "dns-garbage");
        var settings =
                new DnsSettings(List.of(), java.time.Duration.ofSeconds(1), 16, 8, 4, java.time.Duration.ofSeconds(10));
        shared = DnsProxy.Shared.inProcess(settings, transport, group, new DnsMetrics(new SimpleMeterRegistry()));
        var mesh = new FixedMesh(FixedMesh.standard());
        proxy = DnsProxy.open(
                new InetSocketAddress("127.150.1.1", 0),
                mesh,
                FixedMesh.client(mesh.current(), "sleep"),
                shared,
                transport,
                group);
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (shared != null) {
            shared.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    void stillAnswers(String... extra) throws Exception {
        var d = Dig.query("127.150.1.1", proxy.address().getPort(), "httpbin.default.svc.cluster.local", "A", extra);
        assertThat(d.answers()).containsExactly("httpbin.default.svc.cluster.local. 30 IN A 10.96.0.10");
    }

    /** Sends one datagram and returns the reply, or null when none came within 300 ms. */
    byte[] send(DatagramSocket s, byte[] packet) throws Exception {
        s.send(new DatagramPacket(packet, packet.length, proxy.address()));
        var buf = new byte[4096];
        var p = new DatagramPacket(buf, buf.length);
        try {
            s.receive(p);
            return java.util.Arrays.copyOf(buf, p.getLength());
        } catch (SocketTimeoutException e) {
            return null;
        }
    }

    /** The proxy closed the connection: end of stream, or a reset when it left our bytes unread. */
    static void assertClosed(Socket c) throws Exception {
        try {
            assertThat(c.getInputStream().read()).as("closed").isEqualTo(-1);
        } catch (java.net.SocketException e) {
            assertThat(e.getMessage()).contains("reset");
        }
    }

    @Test
    void garbageDatagramsAreDroppedAndTheNextQueryIsAnswered() throws Exception {
        try (var s = new DatagramSocket(new InetSocketAddress("127.150.1.2", 0))) {
            s.setSoTimeout(300);
            var random = new Random(4206120261122L);
            for (int i = 0; i < 300; i++) {
                var b = new byte[random.nextInt(600)];
                random.nextBytes(b);
                if (b.length > 2) {
                    b[2] &= 0x7F;
                } // mostly "queries", so that they get past the QR check into the decoder
                s.send(new DatagramPacket(b, b.length, proxy.address()));
            }
            for (var hex : List.of(
                    "abcd01", // a truncated header
                    "abcd01000001000000000000c00c00010001", // a name pointing at itself
                    "abcd01000001000000000000c00ec00c00010001", // two pointers pointing at each other
                    "abcd0100ffffffffffffffff", // every count at its maximum, nothing behind
                    "abcd010000010000000000003f6161")) { // a label longer than the packet
                assertThat(send(s, HEX.parseHex(hex))).as("reply to %s", hex).isNull();
            }
        }
        stillAnswers();
    }

    @Test
    void aQueryWithoutAQuestionGetsFormerr() throws Exception {
        try (var s = new DatagramSocket(new InetSocketAddress("127.150.1.2", 0))) {
            s.setSoTimeout(5000);
            var reply = send(s, HEX.parseHex("beef01000000000000000000"));
            assertThat(reply).isNotNull();
            assertThat(HEX.formatHex(reply, 0, 2)).isEqualTo("beef");
            assertThat(reply[3] & 0x0F).as("rcode").isEqualTo(1);
        }
        stillAnswers();
    }

    @Test
    void aNameLongerThanDnsAllowsIsDropped() throws Exception {
        // five labels of 60 bytes: each label is valid, the name (305 bytes) is not (RFC 1035: 255)
        var q = new java.io.ByteArrayOutputStream();
        q.writeBytes(HEX.parseHex("cafe01000001000000000000"));
        for (int i = 0; i < 5; i++) {
            q.write(60);
            q.writeBytes("a".repeat(60).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        q.writeBytes(HEX.parseHex("0000010001"));
        try (var s = new DatagramSocket(new InetSocketAddress("127.150.1.2", 0))) {
            s.setSoTimeout(300);
            assertThat(send(s, q.toByteArray())).as("no reply").isNull();
        }
        stillAnswers();
    }

    @Test
    void tcpGarbageClosesThatConnectionOnly() throws Exception {
        try (var c = new Socket()) {
            c.connect(proxy.address(), 5000);
            c.setSoTimeout(5000);
            var out = new DataOutputStream(c.getOutputStream());
            out.writeShort(20);
            out.write(HEX.parseHex("abcd0100ffffffffffffffff0000000000000000"));
            out.flush();
            assertClosed(c);
        }
        try (var c = new Socket()) {
            c.connect(proxy.address(), 5000);
            c.setSoTimeout(5000);
            var out = new DataOutputStream(c.getOutputStream());
            out.writeShort(65535); // a frame over the proxy's bound
            out.write(new byte[TcpDnsListener.MAX_QUERY + 1]);
            out.flush();
            assertClosed(c);
        }
        stillAnswers("+tcp");
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAndTheOthersServe() throws Exception {
        var held = new java.util.ArrayList<Socket>();
        try {
            for (int i = 0; i < 4; i++) { // the limit this proxy was given
                var c = new Socket();
                c.connect(proxy.address(), 5000);
                held.add(c);
            }
            try (var extra = new Socket()) {
                extra.connect(proxy.address(), 5000);
                extra.setSoTimeout(5000);
                assertClosed(extra);
            }
        } finally {
            for (var c : held) {
                c.close();
            }
        }
        // the held connections are gone (their close is seen by the proxy in its own time): UDP still answers
        stillAnswers();
    }
}
