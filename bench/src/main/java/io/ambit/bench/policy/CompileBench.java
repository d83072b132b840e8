package io.ambit.bench.policy;

import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.load.LoadResult;
import io.ambit.policy.load.PolicyLoader;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a policy push costs the control thread, once per shot: loading the mesh's YAML (parse and
 * validate every object, as istiod's validation would), compiling the validated set into a snapshot,
 * and both in a row. Single shots, because a push is a one-off: each measurement is one full load or
 * compile of the whole mesh, after a few warm-up shots.
 *
 * <p>The retained size of the compiled snapshot is measured by {@link SnapshotHeap}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class CompileBench {
    @Param({"10000"})
    public int policies;

    private String yaml;
    private PolicySet set;

    @Setup
    public void setUp() {
        var fixture = MeshFixture.generate(policies);
        yaml = fixture.yaml();
        var loaded = fixture.load();
        if (!loaded.ok()) {
            throw new IllegalStateException(
                    "the fixture does not load: " + loaded.errors().getFirst());
        }
        set = loaded.policies();
    }

    /**
     * Each shot starts on a collected heap, so that it pays for the garbage it makes itself and not for
     * the previous shot's.
     */
    @Setup(Level.Iteration)
    public void collect() {
        System.gc();
    }

    @Benchmark
    public LoadResult load() {
        return load(yaml);
    }

    @Benchmark
    public PolicySnapshot compile() {
        return PolicyCompiler.compile(set, MeshFixture.MESH);
    }

    @Benchmark
    public PolicySnapshot loadAndCompile() {
        return PolicyCompiler.compile(load(yaml).policies(), MeshFixture.MESH);
    }

    private LoadResult load(String text) {
        return new PolicyLoader(MeshFixture.MESH.extendedConditions())
                .text(text, "mesh-" + policies + ".yaml")
                .result();
    }
}
