package io.ambit.hbone.transport;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Linux scheduling policy of the event-loop threads: {@code normal} (SCHED_OTHER, the kernel's
 * default) or {@code batch} (SCHED_BATCH), set by each event loop on itself when it starts, through
 * {@code sched_setscheduler(0, policy, {0})} (Java's FFM API; no privileges needed to lower a thread
 * to SCHED_BATCH, and the JVM's other threads keep their policy).
 *
 * <p>Why SCHED_BATCH for a proxy's loops: a woken SCHED_BATCH thread does not preempt the thread
 * running on its CPU (no wake-up preemption), so the chain "the loop writes to a loopback socket, the
 * kernel wakes the reader, the reader takes the CPU, the loop waits for it to come back" mostly becomes
 * "the loop finishes its batch of events, then the reader runs". At 1,000 small requests/s through two
 * ztunnels that cut their CPU per request by ~15-20 % and half their CPU migrations on a 2-vCPU VM
 * (bench/README.md, section "ztunnel"). The nice value and CPU share stay as they were: SCHED_BATCH
 * threads are scheduled by CFS/EEVDF with the same weight, only treated as "not interactive".
 *
 * <p>Chosen by the {@value #PROPERTY} system property, else the {@value #ENV} environment variable, else
 * {@code normal}; any other value fails {@link #configured} with the name and what was expected. A
 * kernel that refuses (not Linux, a seccomp filter) is logged once as a warning and the loops run with
 * the policy they inherited: the choice is an optimization, never a reason not to serve.
 *
 * <p>The loops' EEVDF slice ({@link ThreadSlice}, {@code -Dambit.eventLoopSliceMicros}) is set by the same
 * thread factory: SCHED_BATCH is the CPU knob, a short slice the wake-up latency knob.
 */
public final class ThreadScheduling {
    /** System property: {@code normal} or {@code batch}. */
    public static final String PROPERTY = "ambit.eventLoopScheduling";

    /** Environment variable read when the system property is not set (for a DaemonSet's {@code env}). */
    public static final String ENV = "AMBIT_EVENT_LOOP_SCHEDULING";

    private static final Logger log = LoggerFactory.getLogger(ThreadScheduling.class);
    private static final AtomicBoolean warned = new AtomicBoolean();

    /** A Linux scheduling policy of a thread, with its {@code <sched.h>} number. */
    public enum Policy {
        NORMAL("normal", 0),
        BATCH("batch", 3);

        private final String configName;
        private final int linuxPolicy;

        Policy(String configName, int linuxPolicy) {
            this.configName = configName;
            this.linuxPolicy = linuxPolicy;
        }

        public String configName() {
            return configName;
        }

        /** SCHED_OTHER (0) or SCHED_BATCH (3). */
        int linuxPolicy() {
            return linuxPolicy;
        }

        /**
         * Parses a configured name (case-insensitive); {@code source} names where it came from.
         *
         * @throws IllegalArgumentException naming the source, the value and what was expected
         */
        static Policy parse(String source, String value) {
            for (Policy p : values()) {
                if (p.configName.equalsIgnoreCase(value.strip())) {
                    return p;
                }
            }
            throw new IllegalArgumentException(source + ": \"" + value + "\" (expected: normal or batch)");
        }
    }

    private ThreadScheduling() {}

    /** The policy {@value #PROPERTY}, else {@value #ENV}, asks for; {@code normal} when neither is set. */
    public static Policy configured() {
        return configured(System.getProperty(PROPERTY), System.getenv());
    }

    static Policy configured(String property, Map<String, String> env) {
        if (property != null && !property.isBlank()) {
            return Policy.parse(PROPERTY, property);
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Policy.parse(ENV, fromEnv);
        }
        return Policy.NORMAL;
    }

    /**
     * A thread factory whose threads first set their own scheduling policy to {@code policy}, then run
     * their task. {@code normal} returns {@code delegate} unchanged (threads inherit the creator's policy,
     * as they always did).
     */
    public static ThreadFactory applying(Policy policy, ThreadFactory delegate) {
        long sliceMicros = ThreadSlice.configuredMicros();
        if (policy == Policy.NORMAL && sliceMicros == 0) {
            return delegate;
        }
        return task -> delegate.newThread(() -> {
            if (policy != Policy.NORMAL) {
                applyToCurrentThread(policy)
                        .ifPresent(problem -> warnOnce("their scheduling policy (SCHED_BATCH asked for)", problem));
            }
            if (sliceMicros > 0) {
                ThreadSlice.applyToCurrentThread(sliceMicros)
                        .ifPresent(problem ->
                                warnOnce("the kernel's time slice (" + sliceMicros + " µs asked for)", problem));
            }
            task.run();
        });
    }

    /**
     * Sets the calling thread's scheduling policy (priority 0, as SCHED_OTHER and SCHED_BATCH require).
     *
     * @return empty when it was set, else why not (the call and errno, or why it cannot be made here)
     */
    public static Optional<String> applyToCurrentThread(Policy policy) {
        return setCurrentThread(policy.linuxPolicy());
    }

    /** {@code sched_setscheduler(0, linuxPolicy, {0})}: package-private so a test can pass a bad policy. */
    static Optional<String> setCurrentThread(int linuxPolicy) {
        if (Native.PROBLEM != null) {
            return Optional.of(Native.PROBLEM);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(JAVA_INT); // struct sched_param { int sched_priority; } = {0}
            MemorySegment state = arena.allocate(Native.CAPTURE);
            int rc = (int) Native.SCHED_SETSCHEDULER.invokeExact(state, 0, linuxPolicy, param);
            if (rc != 0) {
                int errno = (int) Native.ERRNO.get(state, 0L);
                return Optional.of("sched_setscheduler(0, " + linuxPolicy + ") failed with errno " + errno);
            }
            return Optional.empty();
        } catch (Throwable e) {
            return Optional.of("sched_setscheduler: " + e);
        }
    }

    /** Once per process: every loop fails the same way, and serving goes on either way. */
    private static void warnOnce(String what, String problem) {
        if (warned.compareAndSet(false, true)) {
            log.warn("event loops keep {}: {}", what, problem);
        }
    }

    /** The downcall handle, bound on first use; a platform without it leaves {@link #PROBLEM} set. */
    private static final class Native {
        static final String PROBLEM;
        static final MethodHandle SCHED_SETSCHEDULER;
        static final StructLayout CAPTURE;
        static final VarHandle ERRNO;

        static {
            String problem = null;
            MethodHandle handle = null;
            StructLayout capture = null;
            VarHandle errno = null;
            if (!System.getProperty("os.name", "")
                    .toLowerCase(java.util.Locale.ROOT)
                    .contains("linux")) {
                problem = "not Linux (" + System.getProperty("os.name") + ")";
            } else {
                try {
                    Linker linker = Linker.nativeLinker();
                    capture = Linker.Option.captureStateLayout();
                    errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                    var symbol = linker.defaultLookup()
                            .find("sched_setscheduler")
                            .orElseThrow(() -> new IllegalStateException("no sched_setscheduler in libc"));
                    handle = linker.downcallHandle(
                            symbol,
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
                            Linker.Option.captureCallState("errno"));
                } catch (RuntimeException | Error e) {
                    // e.g. IllegalCallerException without --enable-native-access
                    problem = "cannot call sched_setscheduler: " + e;
                    handle = null;
                }
            }
            PROBLEM = problem;
            SCHED_SETSCHEDULER = handle;
            CAPTURE = capture;
            ERRNO = errno;
        }
    }
}
