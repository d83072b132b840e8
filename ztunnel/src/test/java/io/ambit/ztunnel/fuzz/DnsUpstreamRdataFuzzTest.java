package io.ambit.ztunnel.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.ztunnel.dns.DnsFuzzHarness;
import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * The names inside upstream rdata (SOA, MX, SRV), which the proxy writes out in full because a compression
 * pointer would point into the wrong message. Fed an upstream message of random bytes and rdata at a random
 * place in it, and well-formed messages whose rdata points at a name earlier in them: nothing is thrown,
 * the result is null (dropped) or rdata of the type's exact shape with plain labels only and names of at
 * most 255 bytes; for the well-formed ones it is exactly the rdata with the pointed-at name spelled out,
 * computed here independently of the code.
 */
class DnsUpstreamRdataFuzzTest {
    private static final HexFormat HEX = HexFormat.of();

    /** Fixed bytes before the names, names, fixed bytes after, per type (SOA 6, MX 15, SRV 33). */
    static int[] shape(int type) {
        return switch (type) {
            case 6 -> new int[] {0, 2, 20};
            case 15 -> new int[] {2, 1, 0};
            default -> new int[] {6, 1, 0};
        };
    }

    @Property(seed = FuzzInputs.SEED, tries = 3000)
    void randomRdataIsDroppedOrWrittenWithoutPointers(
            @ForAll("messages") byte[] message,
            @ForAll("types") int type,
            @ForAll("nameParts") List<List<Integer>> names,
            @ForAll("positions") int cut) {
        // rdata appended to a random message: the type's fixed bytes around "names" made of random labels
        // (some of invalid lengths) ending in a root label or a pointer anywhere into the message (or beyond)
        int[] shape = shape(type);
        var rdata = new ByteArrayOutputStream();
        rdata.writeBytes(new byte[shape[0]]);
        for (int i = 0; i < shape[1] && i < names.size(); i++) {
            var parts = names.get(i);
            for (int j = 0; j < parts.size() - 1; j++) {
                int len = parts.get(j);
                rdata.write(len);
                rdata.writeBytes(new byte[Math.min(len, 63)]);
            }
            int end = parts.getLast();
            if (end < 0) {
                rdata.write(0);
            } else {
                rdata.write(0xC0 | (end >> 8 & 0x3F));
                rdata.write(end & 0xFF);
            }
        }
        rdata.writeBytes(new byte[shape[2]]);
        byte[] r = rdata.toByteArray();
        // sometimes the rdata is cut short or runs on, as a lying rdlength would make it
        int len = cut % 7 == 0 ? Math.max(0, r.length - cut % 5) : r.length;
        var m = new byte[message.length + r.length];
        System.arraycopy(message, 0, m, 0, message.length);
        System.arraycopy(r, 0, m, message.length, r.length);
        byte[] out = DnsFuzzHarness.upstreamRdata(m, message.length, len, type);
        Statistics.label("outcome").collect(out == null ? "DROPPED" : "KEPT");
        Statistics.label("outcome").coverage(c -> c.check("KEPT").percentage(p -> p >= 5.0));
        if (out != null) {
            assertShape(out, type);
        }
    }

    @Provide
    Arbitrary<List<List<Integer>>> nameParts() {
        Arbitrary<Integer> label = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.integers().between(1, 20)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(64, 191))); // reserved label types
        Arbitrary<Integer> end = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, Arbitraries.just(-1)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 400)));
        return net.jqwik.api.Combinators.combine(label.list().ofMaxSize(4), end)
                .as((labels, e) -> {
                    var all = new java.util.ArrayList<>(labels);
                    all.add(e);
                    return (List<Integer>) all;
                })
                .list()
                .ofMinSize(2)
                .ofMaxSize(2);
    }

    @Property(seed = FuzzInputs.SEED, tries = 1000)
    void pointersToEarlierNamesAreSpelledOut(
            @ForAll("labels") List<String> target,
            @ForAll("labels") List<String> prefix,
            @ForAll("types") int type,
            @ForAll("filler") byte[] filler) {
        // message: 12 header bytes, filler, the target name, then the rdata: fixed bytes, names (each: the
        // prefix labels then a pointer to the target), fixed bytes
        var msg = new ByteArrayOutputStream();
        msg.writeBytes(new byte[12]);
        msg.writeBytes(filler);
        int targetAt = msg.size();
        msg.writeBytes(wire(target, true));
        int rdataAt = msg.size();
        int[] shape = shape(type);
        var expected = new ByteArrayOutputStream();
        msg.writeBytes(new byte[shape[0]]);
        expected.writeBytes(new byte[shape[0]]);
        for (int i = 0; i < shape[1]; i++) {
            msg.writeBytes(wire(prefix, false));
            msg.write(0xC0 | (targetAt >> 8));
            msg.write(targetAt & 0xFF);
            expected.writeBytes(wire(prefix, false));
            expected.writeBytes(wire(target, true));
        }
        msg.writeBytes(new byte[shape[2]]);
        expected.writeBytes(new byte[shape[2]]);
        byte[] m = msg.toByteArray();
        byte[] out = DnsFuzzHarness.upstreamRdata(m, rdataAt, m.length - rdataAt, type);
        int nameBytes = wire(prefix, false).length + wire(target, true).length;
        if (nameBytes > 255) {
            assertThat(out).as("a name over 255 bytes is dropped").isNull();
        } else {
            assertThat(out).as("message %s", HEX.formatHex(m)).isEqualTo(expected.toByteArray());
        }
    }

    static byte[] wire(List<String> labels, boolean terminated) {
        var out = new ByteArrayOutputStream();
        for (var l : labels) {
            out.write(l.length());
            out.writeBytes(l.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        if (terminated) {
            out.write(0);
        }
        return out.toByteArray();
    }

    /** The rdata has the type's shape: fixed bytes, plain-label names of at most 255 bytes, fixed bytes. */
    static void assertShape(byte[] r, int type) {
        int[] shape = shape(type);
        int pos = shape[0];
        for (int n = 0; n < shape[1]; n++) {
            int total = 0;
            while (true) {
                assertThat(pos).as("name inside the rdata").isLessThan(r.length);
                int len = r[pos] & 0xFF;
                assertThat(len & 0xC0).as("no pointer left").isZero();
                total += len + 1;
                pos += len + 1;
                if (len == 0) {
                    break;
                }
            }
            assertThat(total).isLessThanOrEqualTo(255);
        }
        assertThat(r.length - pos).as("fixed bytes after the names").isEqualTo(shape[2]);
    }

    @Provide
    Arbitrary<byte[]> messages() {
        // random bytes, with pointer bytes (0xC0..0xFF) and small lengths common, so pointers and labels occur
        Arbitrary<Byte> b = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.bytes()),
                net.jqwik.api.Tuple.of(
                        2, Arbitraries.integers().between(0xC0, 0xC1).map(i -> (byte) (int) i)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 12).map(i -> (byte) (int) i)));
        return b.list().ofMaxSize(300).map(l -> {
            var a = new byte[l.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = l.get(i);
            }
            return a;
        });
    }

    @Provide
    Arbitrary<Integer> positions() {
        return Arbitraries.integers().between(0, 300);
    }

    @Provide
    Arbitrary<Integer> types() {
        return Arbitraries.of(6, 15, 33);
    }

    @Provide
    Arbitrary<List<String>> labels() {
        return Arbitraries.strings()
                .withCharRange('a', 'z')
                .ofMinLength(1)
                .ofMaxLength(63)
                .list()
                .ofMaxSize(6);
    }

    @Provide
    Arbitrary<byte[]> filler() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
    }
}
