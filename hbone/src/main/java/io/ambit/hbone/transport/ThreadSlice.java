package io.ambit.hbone.transport;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The EEVDF time slice of the calling thread (Linux 6.12+: {@code sched_attr.sched_runtime} of a SCHED_OTHER or
 * SCHED_BATCH thread, 0.1-100 ms; 0 = the kernel's base slice). Why: under EEVDF a woken thread whose slice is
 * shorter than the running thread's gets an earlier deadline and preempts it, so a short slice is the kernel's
 * own "this thread is latency-sensitive" knob; a proxy's event loop runs for tens of microseconds per wake-up and
 * never needs a long one. Set by {@code sched_getattr} + {@code sched_setattr} (raw system calls: glibc before
 * 2.41 has no wrappers), keeping the thread's policy and nice value.
 *
 * <p>Configured by {@value #PROPERTY}, else {@value #ENV}: microseconds, 0 for the kernel's default (the default).
 * Measured at 1,000 req/s through two ztunnels with SCHED_OTHER loops and a 100 µs slice, two runs: the loops'
 * run-queue wait per request 29-33 µs instead of 48-66 µs, preemptions 0.62-0.68 instead of 0.80-0.93 per request,
 * added p99 0.70 / 0.85 ms instead of 2.05 / 1.67 ms, at 1.03-1.04x the CPU per request (bench/README.md,
 * "ztunnel"). Under SCHED_BATCH it buys nothing (a batch thread never preempts on wake-up), so it is an opt-in for
 * nodes that want the tail rather than the CPU. Kernels before 6.12 ignore it; a refusal is logged once.
 */
final class ThreadSlice {
    static final String PROPERTY = "ambit.eventLoopSliceMicros";
    static final String ENV = "AMBIT_EVENT_LOOP_SLICE_US";

    // <linux/sched/types.h>: struct sched_attr, SCHED_ATTR_SIZE_VER1 (56 bytes)
    private static final int SIZE = 56;
    private static final long OFF_RUNTIME = 24; // u32 size, u32 policy, u64 flags, s32 nice, u32 priority, u64 runtime

    private ThreadSlice() {}

    /** The configured slice in microseconds; 0 when none. */
    static long configuredMicros(String property, Map<String, String> env) {
        String source = PROPERTY;
        String value = property;
        if (value == null || value.isBlank()) {
            source = ENV;
            value = env.get(ENV);
        }
        if (value == null || value.isBlank()) {
            return 0;
        }
        long micros;
        try {
            micros = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            micros = -1;
        }
        if (micros != 0 && (micros < 100 || micros > 100_000)) {
            throw new IllegalArgumentException(source + ": \"" + value
                    + "\" (expected: microseconds from 100 to 100000, or 0 for the kernel's default)");
        }
        return micros;
    }

    static long configuredMicros() {
        return configuredMicros(System.getProperty(PROPERTY), System.getenv());
    }

    /** Sets the calling thread's slice; empty when done, else why not. */
    static Optional<String> applyToCurrentThread(long micros) {
        if (Native.PROBLEM != null) {
            return Optional.of(Native.PROBLEM);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(SIZE, 8);
            MemorySegment state = arena.allocate(Native.CAPTURE);
            long rc = (long) Native.SYSCALL_GET.invokeExact(state, Native.SYS_GETATTR, 0L, attr, (long) SIZE, 0L);
            if (rc != 0) {
                return Optional.of("sched_getattr failed with errno " + (int) Native.ERRNO.get(state, 0L));
            }
            attr.set(JAVA_LONG, OFF_RUNTIME, micros * 1000);
            rc = (long) Native.SYSCALL_SET.invokeExact(state, Native.SYS_SETATTR, 0L, attr, 0L);
            if (rc != 0) {
                return Optional.of("sched_setattr(sched_runtime=" + micros * 1000 + " ns) failed with errno "
                        + (int) Native.ERRNO.get(state, 0L));
            }
            return Optional.empty();
        } catch (Throwable e) {
            return Optional.of("sched_setattr: " + e);
        }
    }

    /** The slice the kernel reports for the calling thread, in nanoseconds (for tests); -1 when unknown. */
    static long currentNanos() {
        if (Native.PROBLEM != null) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(SIZE, 8);
            MemorySegment state = arena.allocate(Native.CAPTURE);
            long rc = (long) Native.SYSCALL_GET.invokeExact(state, Native.SYS_GETATTR, 0L, attr, (long) SIZE, 0L);
            return rc == 0 ? attr.get(JAVA_LONG, OFF_RUNTIME) : -1;
        } catch (Throwable e) {
            return -1;
        }
    }

    private static final class Native {
        static final String PROBLEM;
        static final long SYS_SETATTR;
        static final long SYS_GETATTR;
        static final MethodHandle SYSCALL_SET; // syscall(nr, pid, attr, flags)
        static final MethodHandle SYSCALL_GET; // syscall(nr, pid, attr, size, flags)
        static final StructLayout CAPTURE;
        static final VarHandle ERRNO;

        static {
            String problem = null;
            long set = -1;
            long get = -1;
            MethodHandle hs = null;
            MethodHandle hg = null;
            StructLayout capture = null;
            VarHandle errno = null;
            String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                problem = "not Linux";
            } else if (arch.equals("amd64") || arch.equals("x86_64")) {
                set = 314;
                get = 315;
            } else if (arch.equals("aarch64")) {
                set = 274;
                get = 275;
            } else {
                problem = "no sched_setattr system call number for " + arch;
            }
            if (problem == null) {
                try {
                    Linker linker = Linker.nativeLinker();
                    capture = Linker.Option.captureStateLayout();
                    errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                    var symbol = linker.defaultLookup()
                            .find("syscall")
                            .orElseThrow(() -> new IllegalStateException("no syscall in libc"));
                    // long syscall(long number, ...): the arguments after the number are variadic
                    hs = linker.downcallHandle(
                            symbol,
                            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
                            Linker.Option.firstVariadicArg(1),
                            Linker.Option.captureCallState("errno"));
                    hg = linker.downcallHandle(
                            symbol,
                            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG),
                            Linker.Option.firstVariadicArg(1),
                            Linker.Option.captureCallState("errno"));
                } catch (RuntimeException | Error e) {
                    problem = "cannot call sched_setattr: " + e;
                }
            }
            PROBLEM = problem;
            SYS_SETATTR = set;
            SYS_GETATTR = get;
            SYSCALL_SET = hs;
            SYSCALL_GET = hg;
            CAPTURE = capture;
            ERRNO = errno;
        }
    }
}
