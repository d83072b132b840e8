package io.ambit.bench.waypoint;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * What a Flight Recorder recording of a waypoint at saturation says, as text: where its Java code spends the
 * samples — by own time (the frame on top), inclusive (a method anywhere on the stack, counted once per sample)
 * and by the Ambit frame nearest the top (whose work, Netty's included, it is) — what its threads wait for in
 * native code, how many bytes it allocates per request and what its collector paused.
 *
 * <p>Reading it: execution samples are taken of threads in Java code whether they are on a CPU or waiting for
 * one, so on a loaded machine the shares, not the absolute counts, are what to compare. Time in native code
 * (socket writes, TLS in BoringSSL, epoll) is not in them: the native samples show it separately.
 */
final class ProfileSummary {
    private final Map<String, Integer> self = new HashMap<>();
    private final Map<String, Integer> inclusive = new HashMap<>();
    private final Map<String, Integer> nearestAmbit = new HashMap<>();
    private final Map<String, Integer> nativeTop = new HashMap<>();
    private final Map<String, Integer> threads = new HashMap<>();
    private final Map<Long, long[]> allocated = new HashMap<>(); // thread id -> first, last
    private int samples;
    private int nativeSamples;
    private int collections;
    private long pauseNanos;

    private ProfileSummary() {}

    static void run(Args args) throws IOException {
        Path file = Path.of(args.text("--jfr"));
        long requests = Long.parseLong(args.text("--requests", "0"));
        int top = Integer.parseInt(args.text("--top", "30"));
        ProfileSummary s = new ProfileSummary();
        try (RecordingFile recording = new RecordingFile(file)) {
            while (recording.hasMoreEvents()) {
                s.add(recording.readEvent());
            }
        }
        s.print(System.out, file, requests, top);
    }

    private void add(RecordedEvent e) {
        switch (e.getEventType().getName()) {
            case "jdk.ExecutionSample" -> execution(e);
            case "jdk.NativeMethodSample" -> nativeSample(e);
            case "jdk.ThreadAllocationStatistics" -> {
                long[] range = allocated.computeIfAbsent(e.getLong("thread.javaThreadId"), k -> new long[] {-1, 0});
                long bytes = e.getLong("allocated");
                if (range[0] < 0) {
                    range[0] = bytes;
                }
                range[1] = bytes;
            }
            case "jdk.GarbageCollection" -> {
                collections++;
                pauseNanos += e.getDuration("sumOfPauses").toNanos();
            }
            default -> {}
        }
    }

    private void execution(RecordedEvent e) {
        RecordedStackTrace stack = e.getStackTrace();
        if (stack == null || stack.getFrames().isEmpty()) {
            return;
        }
        samples++;
        RecordedThread t = e.getThread("sampledThread");
        threads.merge(t == null ? "?" : t.getJavaName(), 1, Integer::sum);
        List<RecordedFrame> frames = stack.getFrames();
        self.merge(name(frames.getFirst()), 1, Integer::sum);
        Set<String> seen = new HashSet<>();
        String ambit = null;
        for (RecordedFrame f : frames) {
            String n = name(f);
            if (seen.add(n)) {
                inclusive.merge(n, 1, Integer::sum);
            }
            if (ambit == null && n.startsWith("io.ambit.")) {
                ambit = n;
            }
        }
        nearestAmbit.merge(ambit == null ? "(no Ambit frame)" : ambit, 1, Integer::sum);
    }

    private void nativeSample(RecordedEvent e) {
        RecordedStackTrace stack = e.getStackTrace();
        RecordedThread t = e.getThread("sampledThread");
        if (stack == null
                || stack.getFrames().isEmpty()
                || t == null
                || !t.getJavaName().contains("waypoint")) {
            return; // idle pool threads parked in native code say nothing
        }
        nativeSamples++;
        nativeTop.merge(name(stack.getFrames().getFirst()), 1, Integer::sum);
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private void print(PrintStream out, Path file, long requests, int top) {
        out.println("profile " + file.getFileName() + ": " + samples + " Java samples, " + nativeSamples
                + " native samples of the waypoint's threads");
        out.println("threads (Java samples): " + threads);
        long bytes = allocated.values().stream()
                .mapToLong(r -> r[0] < 0 ? 0 : r[1] - r[0])
                .sum();
        if (requests > 0) {
            out.printf(
                    "allocated: %,d bytes per request (%,d requests); GC: %d collections, %.1f ms paused%n",
                    bytes / requests, requests, collections, pauseNanos / 1e6);
        }
        table(out, "own time (top frame)", self, samples, top);
        table(out, "inclusive (anywhere on the stack)", inclusive, samples, top * 2);
        table(out, "by the Ambit frame nearest the top (its work, Netty's included)", nearestAmbit, samples, top);
        table(out, "native code, waypoint threads (top frame)", nativeTop, nativeSamples, 10);
    }

    private static void table(PrintStream out, String title, Map<String, Integer> counts, int total, int top) {
        out.println("--- " + title);
        List<Map.Entry<String, Integer>> rows = new ArrayList<>(counts.entrySet());
        rows.sort(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()));
        for (var row : rows.subList(0, Math.min(top, rows.size()))) {
            out.printf("%5.1f%%  %s%n", 100.0 * row.getValue() / Math.max(1, total), row.getKey());
        }
    }
}
