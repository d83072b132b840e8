package io.ambit.bench.policy;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.engine.WorkloadPolicies;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One decision, single thread, against a compiled snapshot of a mesh of 10, 1,000 or 10,000
 * AuthorizationPolicies × 10 rules ({@link MeshFixture}): ztunnel's per-connection L4 decision and a
 * waypoint's per-request L7 decision, each on an allow path and a deny path ({@link Requests}).
 *
 * <p>The target namespace is the same in every mesh size, so the three sizes differ only in how much
 * else the mesh holds: with indexed attachment, time should stay flat.
 *
 * <p>SampleTime, because the targets are p50s and because a p50 barely moves when other processes
 * share the two cores: a sample is rarely descheduled, while a mean absorbs every time slice lost.
 * On a quiet machine {@code -bm avgt} gives the mean without the per-sample timer overhead (and is
 * what {@code -prof gc} is run with).
 *
 * <p>The request objects are built once: a proxy builds one per connection or request too, but that
 * cost belongs to the proxy, not to the engine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class DecisionBench {
    @Param({"10", "1000", "10000"})
    public int policies;

    private PolicySnapshot snapshot;
    private AccessRequest l4Allow;
    private AccessRequest l4Deny;
    private AccessRequest l7Allow;
    private AccessRequest l7Deny;
    /** What a ztunnel keeps per workload and snapshot: the attachment lookups done once. */
    private WorkloadPolicies api;

    @Setup
    public void setUp() {
        snapshot = PolicyCompiler.compile(MeshFixture.generate(policies).policySet(), MeshFixture.MESH);
        Requests.check(snapshot);
        l4Allow = Requests.l4Allow();
        l4Deny = Requests.l4Deny();
        l7Allow = Requests.l7Allow();
        l7Deny = Requests.l7Deny();
        api = snapshot.attach(l4Allow.destination());
        if (!snapshot.decideL4(api, l4Allow).equals(snapshot.decideL4(l4Allow))) {
            throw new IllegalStateException("attached and direct L4 decisions differ");
        }
    }

    @Benchmark
    public Decision l4Allow() {
        return snapshot.decideL4(l4Allow);
    }

    /** The same connection with the workload's policies attached beforehand, as a ztunnel does. */
    @Benchmark
    public Decision l4AllowAttached() {
        return snapshot.decideL4(api, l4Allow);
    }

    @Benchmark
    public Decision l4DenyAttached() {
        return snapshot.decideL4(api, l4Deny);
    }

    @Benchmark
    public Decision l4Deny() {
        return snapshot.decideL4(l4Deny);
    }

    @Benchmark
    public Decision l7Allow() {
        return snapshot.decideL7(l7Allow);
    }

    @Benchmark
    public Decision l7Deny() {
        return snapshot.decideL7(l7Deny);
    }
}
