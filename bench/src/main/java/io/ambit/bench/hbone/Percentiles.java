package io.ambit.bench.hbone;

import java.util.Arrays;
import java.util.Locale;

/** Summary of nanosecond samples in microseconds: p50, p90, p99, mean, max (nearest-rank percentiles). */
record Percentiles(int count, double p50, double p90, double p99, double mean, double max) {

    /** Summarises the first {@code n} samples (sorting them in place). */
    static Percentiles ofNanos(long[] samples, int n) {
        if (n == 0) {
            return new Percentiles(0, 0, 0, 0, 0, 0);
        }
        Arrays.sort(samples, 0, n);
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += samples[i];
        }
        return new Percentiles(
                n,
                rank(samples, n, 0.50),
                rank(samples, n, 0.90),
                rank(samples, n, 0.99),
                sum / 1e3 / n,
                samples[n - 1] / 1e3);
    }

    private static double rank(long[] sorted, int n, double q) {
        int index = (int) Math.ceil(q * n) - 1;
        return sorted[Math.max(0, Math.min(n - 1, index))] / 1e3;
    }

    /** {@code p50_us=… p90_us=… p99_us=… mean_us=… max_us=…}. */
    String format() {
        return String.format(
                Locale.ROOT, "p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f max_us=%.1f", p50, p90, p99, mean, max);
    }
}
