package io.ambit.ztunnel.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.dns.DnsFuzzHarness;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * ztunnel's DNS proxy (15053) fed datagrams: well-formed queries (with and without EDNS, mesh and other
 * names, other opcodes), the same with random edits, and random bytes — including the classic traps
 * (compression pointer loops, counts far beyond the packet). Whatever arrives: nothing thrown, every buffer
 * released, at most one reply, and a reply is a well-formed DNS response to that query (its id, QR set,
 * its counts matching what follows, at most 512 bytes unless the client's EDNS allows more). For the
 * well-formed queries the reply is exactly what the proxy's contract says, computed here independently:
 * a mesh name's A record from the mesh (authoritative, one answer), SERVFAIL for what goes upstream (this
 * harness has none), NOTIMP for another opcode.
 */
class DnsQueryFuzzTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final DnsFuzzHarness HARNESS = new DnsFuzzHarness();

    @AfterContainer
    static void close() {
        HARNESS.close();
    }

    @Property(seed = FuzzInputs.SEED, tries = 2000)
    void everyDatagramIsDroppedOrAnsweredWithAWellFormedResponse(@ForAll("datagrams") byte[] input) {
        byte[] reply = HARNESS.udp(input);
        String expected = model(input);
        String outcome = reply == null ? "DROPPED" : "REPLY";
        if (reply != null) {
            checkWellFormed(input, reply);
        }
        if (expected != null) {
            assertThat(reply)
                    .as("reply to well-formed %s", HEX.formatHex(input))
                    .isNotNull();
            assertThat(describe(reply)).as("reply to %s", HEX.formatHex(input)).isEqualTo(expected);
            outcome = expected;
        }
        Statistics.label("outcome").collect(outcome.split(" ")[0]);
        Statistics.label("outcome").coverage(c -> {
            c.check("MESH").percentage(p -> p >= 1.0);
            c.check("SERVFAIL").percentage(p -> p >= 1.0);
            c.check("DROPPED").percentage(p -> p >= 1.0);
        });
    }

    // ---- the inputs ----

    static final List<String> NAMES = List.of(
            "httpbin.default.svc.cluster.local",
            "httpbin",
            "db.default.svc.cluster.local",
            "unknown.test",
            "x.example.com");

    /** A well-formed query: id, flags (RD, opcode), one question, optionally an EDNS OPT record. */
    static byte[] query(int id, int opcode, String name, int type, boolean edns, int ednsSize) {
        var out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {
            (byte) (id >> 8), (byte) id, (byte) (opcode << 3 | 1), 0, 0, 1, 0, 0, 0, 0, 0, (byte) (edns ? 1 : 0)
        });
        for (var label : name.split("\\.")) {
            out.write(label.length());
            out.writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(new byte[] {0, 0, (byte) type, 0, 1});
        if (edns) {
            out.writeBytes(new byte[] {0, 0, 41, (byte) (ednsSize >> 8), (byte) ednsSize, 0, 0, 0, 0, 0, 0});
        }
        return out.toByteArray();
    }

    @Provide
    Arbitrary<byte[]> datagrams() {
        Arbitrary<byte[]> valid = Combinators.combine(
                        Arbitraries.integers().between(0, 0xFFFF),
                        Arbitraries.of(0, 0, 0, 0, 2),
                        Arbitraries.of(NAMES),
                        Arbitraries.of(1, 1, 28, 33, 16),
                        Arbitraries.of(true, false),
                        Arbitraries.integers().between(0, 8192))
                .as(DnsQueryFuzzTest::query);
        Arbitrary<byte[]> edited = Combinators.combine(
                        valid,
                        Arbitraries.integers().between(0, 80).list().ofMaxSize(4),
                        Arbitraries.integers().between(0, 255).list().ofSize(4))
                .as((b, at, values) -> {
                    var copy = b.clone();
                    for (int i = 0; i < at.size(); i++) {
                        if (at.get(i) < copy.length) {
                            copy[at.get(i)] = (byte) (int) values.get(i);
                        }
                    }
                    return copy;
                });
        Arbitrary<byte[]> cut = Combinators.combine(
                        valid, Arbitraries.integers().between(0, 60))
                .as((b, n) -> java.util.Arrays.copyOf(b, Math.min(b.length, n)));
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(600);
        Arbitrary<byte[]> traps = Arbitraries.of(
                // a question name that points at itself
                HEX.parseHex("abcd0100000100000000000" + "0c00c00010001"),
                // two pointers pointing at each other
                HEX.parseHex("abcd010000010000000000000" + "1c00ec00c0001"),
                // every count at its maximum, nothing behind
                HEX.parseHex("abcd0100ffffffffffffffff"),
                // a label longer than the packet
                HEX.parseHex("abcd01000001000000000000" + "3f6161"),
                // a response, not a query
                HEX.parseHex("abcd81800001000000000000" + "0474657374000001000" + "1"),
                // no question at all
                HEX.parseHex("abcd01000000000000000000"));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, valid),
                net.jqwik.api.Tuple.of(4, edited),
                net.jqwik.api.Tuple.of(1, cut),
                net.jqwik.api.Tuple.of(2, random),
                net.jqwik.api.Tuple.of(1, traps));
    }

    // ---- the model: written from RFC 1035 and the proxy's contract, not from its code ----

    /**
     * What a well-formed query must get ("MESH", "SERVFAIL", "NOTIMP", each with the question echoed), or
     * null when the input is not one of the generated well-formed shapes (then only the invariants hold).
     */
    static String model(byte[] b) {
        for (int id : new int[] {(b.length > 1 ? ((b[0] & 0xFF) << 8) | (b[1] & 0xFF) : -1)}) {
            for (int opcode : new int[] {0, 2}) {
                for (var name : NAMES) {
                    for (int type : new int[] {1, 28, 33, 16}) {
                        for (boolean edns : new boolean[] {false, true}) {
                            int size = edns && b.length >= 8
                                    ? ((b[b.length - 8] & 0xFF) << 8) | (b[b.length - 7] & 0xFF)
                                    : 0;
                            if (java.util.Arrays.equals(b, query(id, opcode, name, type, edns, size))) {
                                return expected(opcode, name, type);
                            }
                        }
                    }
                }
            }
        }
        return null;
    }

    private static String expected(int opcode, String name, int type) {
        if (opcode != 0) {
            return "NOTIMP q=" + name + "/" + type + " an=0 aa=false";
        }
        boolean meshName = name.equals("httpbin.default.svc.cluster.local")
                || name.equals("httpbin")
                || name.equals("db.default.svc.cluster.local")
                || name.equals("x.example.com");
        if (meshName && (type == 1 || type == 28)) {
            // A: httpbin 1 VIP (+ a CNAME for the short name), db 2 endpoints, *.example.com 1 VIP; AAAA:
            // httpbin's one v6 VIP, none for the others
            int an =
                    switch (name) {
                        case "httpbin" -> 2;
                        case "db.default.svc.cluster.local" -> type == 1 ? 2 : 0;
                        case "x.example.com" -> type == 1 ? 1 : 0;
                        default -> 1;
                    };
            return "MESH q=" + name + "/" + type + " an=" + an + " aa=true";
        }
        return "SERVFAIL q=" + name + "/" + type + " an=0 aa=false";
    }

    /** The reply as the model writes it. */
    static String describe(byte[] r) {
        int flags = ((r[2] & 0xFF) << 8) | (r[3] & 0xFF);
        int rcode = flags & 0xF;
        boolean aa = (flags & 0x0400) != 0;
        int an = ((r[6] & 0xFF) << 8) | (r[7] & 0xFF);
        var q = new StringBuilder();
        int pos = 12;
        while (r[pos] != 0) {
            if (!q.isEmpty()) {
                q.append('.');
            }
            q.append(new String(r, pos + 1, r[pos], StandardCharsets.US_ASCII));
            pos += r[pos] + 1;
        }
        int type = ((r[pos + 1] & 0xFF) << 8) | (r[pos + 2] & 0xFF);
        String kind =
                switch (rcode) {
                    case 0 -> "MESH";
                    case 2 -> "SERVFAIL";
                    case 4 -> "NOTIMP";
                    default -> "RCODE" + rcode;
                };
        return kind + " q=" + q + "/" + type + " an=" + an + " aa=" + aa;
    }

    /** A reply is a response to this query whose counts match its contents exactly (no pointers: we write none). */
    static void checkWellFormed(byte[] query, byte[] r) {
        assertThat(r.length).as("reply header").isGreaterThanOrEqualTo(12);
        assertThat(r[0]).isEqualTo(query[0]);
        assertThat(r[1]).isEqualTo(query[1]);
        assertThat(r[2] & 0x80).as("QR").isNotZero();
        assertThat(r.length).as("UDP reply size").isLessThanOrEqualTo(4096);
        if ((r[2] & 0x02) == 0) { // not truncated: the full answer fits what the client takes
            assertThat(r.length).isLessThanOrEqualTo(Math.max(512, ednsSize(query)));
        }
        int qd = u16(r, 4);
        int records = u16(r, 6) + u16(r, 8) + u16(r, 10);
        assertThat(qd).isLessThanOrEqualTo(1);
        int pos = 12;
        for (int i = 0; i < qd; i++) {
            pos = skipName(r, pos) + 4;
        }
        for (int i = 0; i < records; i++) {
            pos = skipName(r, pos) + 8;
            pos += 2 + u16(r, pos);
        }
        assertThat(pos).as("counts match the reply's length").isEqualTo(r.length);
    }

    private static int ednsSize(byte[] q) {
        // the generated queries carry OPT last; for others only 512 is assumed
        if (q.length >= 23 && q[q.length - 11] == 0 && q[q.length - 9] == 41) {
            return Math.min(4096, u16(q, q.length - 8));
        }
        return 512;
    }

    private static int skipName(byte[] r, int pos) {
        int total = 0;
        while (true) {
            int len = r[pos] & 0xFF;
            assertThat(len & 0xC0).as("plain label").isZero();
            total += len + 1;
            assertThat(total).as("name length").isLessThanOrEqualTo(255);
            pos += len + 1;
            if (len == 0) {
                return pos;
            }
        }
    }

    private static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }
}
