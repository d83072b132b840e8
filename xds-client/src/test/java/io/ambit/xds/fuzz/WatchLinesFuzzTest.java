package io.ambit.xds.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * The Kubernetes watch stream reader ({@code BoundedLines}, security-cases row 35: what an API server sends
 * must not take the data plane down): any byte stream, delivered in reads of random sizes, yields exactly
 * the events an independent line splitter finds — complete lines only, blank keep-alive lines skipped, a
 * line over the bound refused with an IOException naming the bound, never more memory than the bound.
 * The reader is package-private in {@code io.ambit.xds.kube}, so it is built reflectively.
 */
class WatchLinesFuzzTest {
    private static final int MAX_LINE = 64;

    @Property(seed = FuzzInputs.SEED)
    void eventsAreExactlyTheCompleteLines(@ForAll("streams") byte[] stream, @ForAll("reads") List<Integer> reads)
            throws Exception {
        List<String> expected = model(stream);
        List<String> actual = run(stream, reads);

        assertThat(actual).isEqualTo(expected);
        Statistics.label("ends with")
                .collect(
                        expected.isEmpty()
                                ? "nothing"
                                : expected.getLast().startsWith("TOO LONG") ? "too long" : "event");
        Statistics.label("ends with").coverage(c -> {
            c.check("too long").percentage(p -> p >= 1.0);
            c.check("event").percentage(p -> p >= 1.0);
        });
    }

    /** The lines as a plain splitter sees them; "TOO LONG" where the reader must give up. */
    static List<String> model(byte[] stream) {
        List<String> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= stream.length; i++) {
            boolean end = i == stream.length;
            if (!end && stream[i] != '\n') {
                continue;
            }
            int length = i - from;
            if (length > MAX_LINE) {
                out.add("TOO LONG");
                return out;
            }
            if (end) {
                return out; // a last line without its newline is an event cut off mid-way
            }
            boolean blank = length == 0 || (length == 1 && stream[from] == '\r');
            if (!blank) {
                out.add(new String(stream, from, length, StandardCharsets.UTF_8).stripTrailing());
            }
            from = i + 1;
        }
        return out;
    }

    private static List<String> run(byte[] stream, List<Integer> reads) throws Exception {
        Class<?> type = Class.forName("io.ambit.xds.kube.BoundedLines");
        Constructor<?> c = type.getDeclaredConstructor(InputStream.class, int.class);
        c.setAccessible(true);
        Method next = type.getDeclaredMethod("next");
        next.setAccessible(true);
        Object lines = c.newInstance(new ChoppedStream(stream, reads), MAX_LINE);
        List<String> out = new ArrayList<>();
        for (int guard = 0; guard <= stream.length + 1; guard++) { // at most one event per byte, then the end
            String line;
            try {
                line = (String) next.invoke(lines);
            } catch (InvocationTargetException e) {
                assertThat(e.getCause()).isInstanceOf(IOException.class).hasMessageContaining(MAX_LINE + " bytes");
                out.add("TOO LONG");
                return out;
            }
            if (line == null) {
                return out;
            }
            out.add(line);
        }
        throw new AssertionError("more events than bytes");
    }

    /** Hands out the stream in reads of the given sizes (cycled), as a socket would. */
    private static final class ChoppedStream extends InputStream {
        private final byte[] data;
        private final List<Integer> sizes;
        private int at;
        private int read;

        ChoppedStream(byte[] data, List<Integer> sizes) {
            this.data = data;
            this.sizes = sizes.isEmpty() ? List.of(Integer.MAX_VALUE) : sizes;
        }

        @Override
        public int read() {
            return at < data.length ? data[at++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (at >= data.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, data.length - at), sizes.get(read++ % sizes.size()));
            System.arraycopy(data, at, b, off, n);
            at += n;
            return n;
        }
    }

    @Provide
    Arbitrary<List<Integer>> reads() {
        return Arbitraries.integers().between(1, 70).list().ofMaxSize(6);
    }

    @Provide
    Arbitrary<byte[]> streams() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.of(
                        "{\"type\":\"ADDED\",\"object\":{}}\n",
                        "\n",
                        "\r\n",
                        "\r",
                        " \n",
                        "{\"a\":\"é世\"}\n",
                        "x".repeat(63) + "\n",
                        "x".repeat(64) + "\n",
                        "x".repeat(65) + "\n",
                        "x".repeat(64) + "\r\n",
                        "{\"type\":\"DELETED\"",
                        "\u0000\n",
                        "\t \n"),
                Arbitraries.strings()
                        .withCharRange(' ', '~')
                        .withChars("\n\r\u00e9")
                        .ofMaxLength(20));
        return piece.list().ofMaxSize(8).map(parts -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            parts.forEach(p -> out.writeBytes(p.getBytes(StandardCharsets.UTF_8)));
            return out.toByteArray();
        });
    }
}
