package io.ambit.bench.policy;

import static io.ambit.bench.policy.Crd.OperationField.PORTS;
import static io.ambit.bench.policy.Crd.SourceField.IP_BLOCKS;
import static io.ambit.bench.policy.Crd.SourceField.NAMESPACES;
import static io.ambit.bench.policy.Crd.SourceField.PRINCIPALS;
import static io.ambit.bench.policy.Crd.from;
import static io.ambit.bench.policy.Crd.rule;
import static io.ambit.bench.policy.Crd.to;
import static io.ambit.bench.policy.Crd.when;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Selector;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
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
 * ztunnel's RBAC benchmark as it is written: every one of the 10,000 DENY policies × 10 rules is
 * mesh-wide, so every one applies to the connection, and none matches. No index can help; this is
 * the cost of walking 100,000 rules, i.e. the engine's per-rule cost. Not a target; a reference point
 * for what {@link DecisionBench}'s indexed mesh avoids.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class GlobalDenyBench {
    @Param({"10000"})
    public int policies;

    private PolicySnapshot snapshot;
    private AccessRequest connection;

    @Setup
    public void setUp() {
        // ztunnel's rule: string matches of each kind, a network, a port; one source, no identity.
        var strings = List.of("random-prefix-2b123*", "*random-postfix-2b723", "random-exact-2bc13");
        var network = "198.51.100.0/24";
        Rule r = rule(
                from(NAMESPACES, strings)
                        .and(PRINCIPALS, List.of("random-prefix-2b123*", "*random-postfix-2b723", "random-exact-2bc13"))
                        .and(IP_BLOCKS, List.of(network)),
                to(PORTS, List.of("1")),
                when("destination.ip", network));
        var rules = Collections.nCopies(MeshFixture.RULES, r);
        var ps = new ArrayList<AuthorizationPolicy>(policies);
        for (int i = 0; i < policies; i++) {
            var meta = new PolicyMeta("policy-" + i, MeshFixture.ROOT, Map.of(), null, i, "GlobalDenyBench");
            ps.add(new AuthorizationPolicy(meta, Selector.NONE, List.of(), Action.DENY, null, rules));
        }
        snapshot = PolicyCompiler.compile(new PolicySet(ps, List.of(), List.of()), MeshFixture.MESH);
        connection = AccessRequest.builder()
                .sourceIp("127.0.0.1")
                .destination(MeshFixture.TARGET_NAMESPACE, Map.of("app", "api"))
                .destinationIp("127.0.0.2")
                .port(12345)
                .build();
        var d = snapshot.decideL4(connection);
        if (!d.allowed() || d.policy() != null) {
            throw new IllegalStateException("expected ALLOW with no policy matched, got " + d);
        }
    }

    @Benchmark
    public Decision l4NoMatch() {
        return snapshot.decideL4(connection);
    }
}
