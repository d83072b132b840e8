package io.ambit.xds.fuzz;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.statistics.Statistics;

/**
 * The fixed seed and shared mutators of the xds-client property tests, so a failure reproduces everywhere;
 * tries are jqwik's default (1000) unless {@code -Djqwik.tries.default=N} asks for a longer run.
 */
final class FuzzInputs {
    /** The fixed seed: change it (or run longer) to explore other inputs; never leave CI on a random one. */
    static final String SEED = "4206120261122";

    private FuzzInputs() {}

    /** Requires that both outcomes happen in at least 1% of the tries (else the generator tests nothing). */
    static void outcome(boolean accepted) {
        Statistics.label("outcome").collect(accepted ? "accepted" : "refused");
        Statistics.label("outcome").coverage(c -> {
            c.check("accepted").percentage(p -> p >= 1.0);
            c.check("refused").percentage(p -> p >= 1.0);
        });
    }

    /** One edit of a byte string: kind 0 flips bits, 1 inserts, 2 deletes, 3 truncates, 4 duplicates a run. */
    record Edit(int kind, int at, int length, byte value) {
        byte[] apply(byte[] in) {
            int pos = in.length == 0 ? 0 : Math.floorMod(at, in.length + 1);
            int n = Math.min(length, in.length - Math.min(pos, in.length));
            return switch (kind) {
                case 0 -> {
                    byte[] out = in.clone();
                    if (pos < out.length) {
                        out[pos] ^= value == 0 ? 1 : value;
                    }
                    yield out;
                }
                case 1 -> concat(slice(in, 0, pos), repeat(value, length), slice(in, pos, in.length));
                case 2 -> concat(slice(in, 0, pos), slice(in, pos + n, in.length));
                case 3 -> slice(in, 0, pos);
                default -> concat(slice(in, 0, pos + n), slice(in, pos, in.length));
            };
        }
    }

    static Arbitrary<List<Edit>> edits(int max) {
        return Combinators.combine(
                        Arbitraries.integers().between(0, 4),
                        Arbitraries.integers().between(0, 4096),
                        Arbitraries.integers().between(0, 12),
                        Arbitraries.bytes())
                .as(Edit::new)
                .list()
                .ofMinSize(1)
                .ofMaxSize(max);
    }

    static byte[] mutate(byte[] in, List<Edit> edits) {
        byte[] out = in;
        for (Edit e : edits) {
            out = e.apply(out);
        }
        return out;
    }

    private static byte[] slice(byte[] in, int from, int to) {
        return java.util.Arrays.copyOfRange(in, Math.min(from, in.length), Math.min(Math.max(from, to), in.length));
    }

    private static byte[] repeat(byte b, int n) {
        byte[] out = new byte[n];
        java.util.Arrays.fill(out, b);
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
