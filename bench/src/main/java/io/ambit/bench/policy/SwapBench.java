package io.ambit.bench.policy;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.crd.Selector;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.store.PolicyStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decisions per second while snapshots are swapped under a reader. The reader does what a proxy does
 * per connection or request: read the current snapshot once, then decide; one invocation is an L4 and
 * an L7 decision (both allow paths), counted as two operations.
 *
 * <p>Each group pairs the reader with one writer thread, and each swapping writer has a twin that
 * does the same work without publishing anything, so that a comparison isolates the swap: on this
 * 2-core VM a second thread that merely wakes up every 100 µs already costs the reader about half its
 * rate (see bench/README.md), which a comparison against the reader alone would blame on the swaps.
 *
 * <pre>
 * group       writer                                              compare with
 * steady      none (the reader alone)                             -
 * idle        sleeps 100 µs, publishes nothing                    paced
 * paced       swaps two precompiled snapshots, sleeps 100 µs      idle
 * spin        burns CPU, publishes nothing                        swap
 * swap        swaps two precompiled snapshots flat out            spin
 * compile     compiles the next policy set, publishes nothing     update
 * update      PolicyStore.update back to back (compile and swap)  compile
 * </pre>
 *
 * <p>{@code paced} is still far more often than a control plane pushes; {@code swap} (tens of millions
 * a second) is the worst case for the reference's cache line; {@code update} is a storm of pushes whose
 * compile competes with the reader for the CPU, the memory bus and the collector. Compare the
 * reader's score; the writer's score is how many swaps or compiles it managed.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class SwapBench {

    /** One mesh, shared by the reader and the writer of a group. */
    @State(Scope.Group)
    public static class Mesh {
        @Param({"10000"})
        public int policies;

        PolicySet setA;
        PolicySet setB;
        PolicyStore store;
        AtomicReference<PolicySnapshot> current;
        /** What {@code spin} publishes to: the same store as a swap, into a reference no reader reads. */
        final AtomicReference<PolicySnapshot> unread = new AtomicReference<>();

        PolicySnapshot snapshotA;
        PolicySnapshot snapshotB;
        AccessRequest l4;
        AccessRequest l7;
        boolean flip;

        @Setup
        public void setUp() {
            setA = MeshFixture.generate(policies).policySet();
            setB = withOneMore(setA);
            snapshotA = PolicyCompiler.compile(setA, MeshFixture.MESH);
            snapshotB = PolicyCompiler.compile(setB, MeshFixture.MESH);
            Requests.check(snapshotA);
            Requests.check(snapshotB);
            current = new AtomicReference<>(snapshotA);
            store = new PolicyStore(MeshFixture.MESH, Clock.systemUTC());
            store.update(setA, MeshFixture.MESH);
            l4 = Requests.l4Allow();
            l7 = Requests.l7Allow();
        }

        /** A push that adds one namespace-wide ALLOW in a namespace the reader never visits. */
        private static PolicySet withOneMore(PolicySet set) {
            var extra = set.authorizationPolicies().stream()
                    .filter(p -> !p.meta().namespace().equals(MeshFixture.TARGET_NAMESPACE))
                    .filter(p -> !p.meta().namespace().equals(MeshFixture.ROOT))
                    .findFirst()
                    .map(p -> new AuthorizationPolicy(
                            new PolicyMeta("pushed", p.meta().namespace(), Map.of(), null, Long.MAX_VALUE, "SwapBench"),
                            Selector.NONE,
                            List.of(),
                            Action.ALLOW,
                            null,
                            p.rules()))
                    .orElseGet(() -> new AuthorizationPolicy(
                            new PolicyMeta("pushed", "elsewhere", Map.of(), null, Long.MAX_VALUE, "SwapBench"),
                            Selector.NONE,
                            List.of(),
                            Action.ALLOW,
                            null,
                            List.of()));
            var all = new ArrayList<>(set.authorizationPolicies());
            all.add(extra);
            return new PolicySet(all, set.peerAuthentications(), set.requestAuthentications());
        }
    }

    private static void decide(PolicySnapshot s, Mesh m, Blackhole bh) {
        bh.consume(s.decideL4(m.l4));
        bh.consume(s.decideL7(m.l7));
    }

    /** Flips between the two precompiled snapshots. */
    private static void swap(Mesh m) {
        m.flip = !m.flip;
        m.current.set(m.flip ? m.snapshotB : m.snapshotA);
    }

    private static final long PACE_NANOS = 100_000;

    @Benchmark
    @Group("steady")
    @GroupThreads(1)
    @OperationsPerInvocation(2)
    public void steadyReader(Mesh m, Blackhole bh) {
        decide(m.current.get(), m, bh);
    }

    @Benchmark
    @Group("idle")
    @GroupThreads(1)
    @OperationsPerInvocation(2)
    public void idleReader(Mesh m, Blackhole bh) {
        decide(m.current.get(), m, bh);
    }

    @Benchmark
    @Group("idle")
    @GroupThreads(1)
    public void idleWriter() {
        LockSupport.parkNanos(PACE_NANOS);
    }

    @Benchmark
    @Group("paced")
    @GroupThreads(1)
    @OperationsPerInvocation(2)
    public void pacedReader(Mesh m, Blackhole bh) {
        decide(m.current.get(), m, bh);
    }

    @Benchmark
    @Group("paced")
    @GroupThreads(1)
    public void pacedWriter(Mesh m) {
        swap(m);
        LockSupport.parkNanos(PACE_NANOS);
    }

    @Benchmark
    @Group("spin")
    @GroupThreads(1)
    @OperationsPerInvocation(2)
    public void spinReader(Mesh m, Blackhole bh) {
        decide(m.current.get(), m, bh);
    }

    @Benchmark
    @Group("spin")
    @GroupThreads(1)
    public void spinWriter(Mesh m) {
        m.flip = !m.flip;
        m.unread.set(m.flip ? m.snapshotB : m.snapshotA);
    }

    @Benchmark
    @Group("swap")
    @GroupThreads(1)
    @OperationsPerInvocation(2)
    public void swapReader(Mesh m, Blackhole bh) {
        decide(m.current.get(), m, bh);
    }

    @Benchmark
    @Group("swap")
    @GroupThreads(1)
    public void swapWriter(Mesh m) {
        swap(m);
    }

    @Benchmark
    @Group("compile")
    @GroupThreads(1)
    @OperationsPerInvocation(2)
    public void compileReader(Mesh m, Blackhole bh) {
        decide(m.store.current(), m, bh);
    }

    @Benchmark
    @Group("compile")
    @GroupThreads(1)
    public PolicySnapshot compileWriter(Mesh m) {
        m.flip = !m.flip;
        return PolicyCompiler.compile(m.flip ? m.setB : m.setA, MeshFixture.MESH);
    }

    @Benchmark
    @Group("update")
    @GroupThreads(1)
    @OperationsPerInvocation(2)
    public void updateReader(Mesh m, Blackhole bh) {
        decide(m.store.current(), m, bh);
    }

    @Benchmark
    @Group("update")
    @GroupThreads(1)
    public PolicySnapshot updateWriter(Mesh m) {
        m.flip = !m.flip;
        return m.store.update(m.flip ? m.setB : m.setA, MeshFixture.MESH);
    }
}
