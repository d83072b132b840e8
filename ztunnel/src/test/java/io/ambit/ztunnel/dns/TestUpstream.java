package io.ambit.ztunnel.dns;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A nameserver for the tests, on UDP and TCP of one loopback address and port, writing its answers byte by
 * byte so that they carry what real servers send and a proxy must not break: compression pointers inside
 * rdata (SOA of an NXDOMAIN, SRV target), NXDOMAIN, and an answer too big for 512 bytes.
 *
 * <ul>
 *   <li>{@code unknown.test} A: 192.0.2.1, TTL 60
 *   <li>{@code _http._tcp.svc.test} SRV: 0 5 80 target.svc.test (target compressed)
 *   <li>{@code big.test} TXT: six strings of 250 bytes
 *   <li>anything else: NXDOMAIN with {@code test. SOA ns1.test. hostmaster.test. 1 2 3 4 5} (compressed)
 * </ul>
 */
final class TestUpstream implements AutoCloseable {
    final DatagramSocket udp;
    final ServerSocket tcp;
    final AtomicInteger queries = new AtomicInteger();
    private volatile boolean closed;

    TestUpstream(String ip) throws IOException {
        this(ip, 0);
    }

    /** On {@code ip:port} (0: a free port, the same for UDP and TCP). */
    TestUpstream(String ip, int port) throws IOException {
        var addr = InetAddress.getByName(ip);
        udp = new DatagramSocket(new InetSocketAddress(addr, port));
        tcp = new ServerSocket();
        tcp.bind(new InetSocketAddress(addr, udp.getLocalPort()));
        Thread.ofPlatform().daemon().name("test-upstream-udp").start(this::serveUdp);
        Thread.ofPlatform().daemon().name("test-upstream-tcp").start(this::serveTcp);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) udp.getLocalSocketAddress();
    }

    private void serveUdp() {
        var buf = new byte[4096];
        while (!closed) {
            try {
                var p = new DatagramPacket(buf, buf.length);
                udp.receive(p);
                var answer = answer(Arrays.copyOf(p.getData(), p.getLength()));
                if (answer != null) {
                    udp.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
                }
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serveTcp() {
        while (!closed) {
            try (Socket s = tcp.accept()) {
                s.setSoTimeout(5000);
                var in = new DataInputStream(s.getInputStream());
                var out = new DataOutputStream(s.getOutputStream());
                for (int i = 0; i < 16; i++) { // a bounded number of queries per connection
                    int len = in.readUnsignedShort();
                    var answer = answer(in.readNBytes(len));
                    if (answer == null) {
                        break;
                    }
                    out.writeShort(answer.length);
                    out.write(answer);
                    out.flush();
                }
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    /** The answer to a query, or null for one that cannot be read. */
    byte[] answer(byte[] q) {
        if (q.length < 17) {
            return null;
        }
        queries.incrementAndGet();
        int end = 12;
        var name = new StringBuilder();
        while (end < q.length && q[end] != 0) {
            int len = q[end] & 0xFF;
            if (!name.isEmpty()) {
                name.append('.');
            }
            name.append(new String(q, end + 1, Math.min(len, q.length - end - 1), StandardCharsets.US_ASCII));
            end += len + 1;
        }
        int qEnd = end + 5; // root label, type, class
        if (qEnd > q.length) {
            return null;
        }
        int type = ((q[end + 1] & 0xFF) << 8) | (q[end + 2] & 0xFF);
        String n = name.toString().toLowerCase();
        var out = new ByteArrayOutputStream();
        out.write(q, 0, 2); // id
        int rd = q[2] & 0x01;
        var answers = new ByteArrayOutputStream();
        int count = 0;
        int rcode = 0;
        var authority = new ByteArrayOutputStream();
        int nscount = 0;
        if (n.equals("unknown.test") && type == 1) {
            record(answers, new byte[] {(byte) 0xC0, 12}, 1, 60, new byte[] {(byte) 192, 0, 2, 1});
            count = 1;
        } else if (n.equals("_http._tcp.svc.test") && type == 33) {
            // target.svc.test with "svc.test" as a pointer to the question (offset 12 + 6 + 5)
            byte[] rdata = {0, 0, 0, 5, 0, 80, 6, 't', 'a', 'r', 'g', 'e', 't', (byte) 0xC0, 23};
            record(answers, new byte[] {(byte) 0xC0, 12}, 33, 60, rdata);
            count = 1;
        } else if (n.equals("big.test") && type == 16) {
            var txt = new ByteArrayOutputStream();
            for (int i = 0; i < 6; i++) {
                txt.write(250);
                txt.writeBytes(("" + (char) ('a' + i)).repeat(250).getBytes(StandardCharsets.US_ASCII));
            }
            record(answers, new byte[] {(byte) 0xC0, 12}, 16, 60, txt.toByteArray());
            count = 1;
        } else if (n.endsWith("test")) {
            rcode = 3;
            int testAt = qEnd - 5 - 5; // the "test" label of the question
            byte[] ptr = {(byte) 0xC0, (byte) testAt};
            var soa = new ByteArrayOutputStream();
            soa.writeBytes(new byte[] {3, 'n', 's', '1'});
            soa.writeBytes(ptr);
            soa.writeBytes(new byte[] {10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r'});
            soa.writeBytes(ptr);
            for (int i = 1; i <= 5; i++) {
                soa.writeBytes(new byte[] {0, 0, 0, (byte) i});
            }
            record(authority, ptr, 6, 300, soa.toByteArray());
            nscount = 1;
        } else {
            rcode = 5; // REFUSED: not ours
        }
        out.write(0x80 | rd);
        out.write(0x80 | rcode);
        out.writeBytes(new byte[] {0, 1, 0, (byte) count, 0, (byte) nscount, 0, 0});
        out.write(q, 12, qEnd - 12);
        out.writeBytes(answers.toByteArray());
        out.writeBytes(authority.toByteArray());
        return out.toByteArray();
    }

    private static void record(ByteArrayOutputStream out, byte[] owner, int type, int ttl, byte[] rdata) {
        out.writeBytes(owner);
        out.writeBytes(new byte[] {(byte) (type >> 8), (byte) type, 0, 1});
        out.writeBytes(new byte[] {(byte) (ttl >>> 24), (byte) (ttl >>> 16), (byte) (ttl >>> 8), (byte) ttl});
        out.writeBytes(new byte[] {(byte) (rdata.length >> 8), (byte) rdata.length});
        out.writeBytes(rdata);
    }

    @Override
    public void close() throws IOException {
        closed = true;
        udp.close();
        tcp.close();
    }
}
