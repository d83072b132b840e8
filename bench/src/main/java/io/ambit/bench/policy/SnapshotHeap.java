package io.ambit.bench.policy;

import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.load.PolicyLoader;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.util.Locale;

/**
 * Retained heap of a compiled snapshot: the heap in use after full collections, before and after each
 * object is built and held. Run it alone in its own JVM with the serial collector, whose full
 * collection compacts everything, so "used" is exactly the live data:
 *
 * <pre>
 * java -XX:+UseSerialGC -Xms1g -Xmx1g -cp target/ambit-bench.jar io.ambit.bench.policy.SnapshotHeap 10000
 * </pre>
 *
 * <p>A snapshot holds the {@link PolicySet} it was compiled from (for explanations and the CLI), so
 * its retained size is the set plus the compiled indexes; both parts are printed. The set is the one
 * the loader produced from the YAML, as in a proxy.
 */
public final class SnapshotHeap {
    private SnapshotHeap() {}

    public static void main(String[] args) {
        int policies = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        var fixture = MeshFixture.generate(policies);
        String yaml = fixture.yaml();
        fixture = null; // only the text stays reachable

        long base = usedAfterGc();
        var loaded = new PolicyLoader(false).text(yaml, "mesh.yaml").result();
        PolicySet set = loaded.policies();
        loaded = null;
        long withSet = usedAfterGc();
        PolicySnapshot snapshot = PolicyCompiler.compile(set, MeshFixture.MESH);
        long withSnapshot = usedAfterGc();
        Requests.check(snapshot);

        int ap = set.authorizationPolicies().size();
        long setBytes = withSet - base;
        long compiled = withSnapshot - withSet;
        long total = withSnapshot - base;
        System.out.printf(
                Locale.ROOT, "policies (AuthorizationPolicy)        %,d (%,d rules)%n", ap, ap * MeshFixture.RULES);
        System.out.printf(Locale.ROOT, "YAML text                             %,d chars%n", yaml.length());
        System.out.printf(Locale.ROOT, "PolicySet (validated records)         %s%n", mib(setBytes, ap));
        System.out.printf(Locale.ROOT, "compiled indexes and matchers         %s%n", mib(compiled, ap));
        System.out.printf(Locale.ROOT, "snapshot retained (set + compiled)    %s%n", mib(total, ap));
        Reference.reachabilityFence(yaml);
        Reference.reachabilityFence(set);
        Reference.reachabilityFence(snapshot);
    }

    private static String mib(long bytes, int policies) {
        return String.format(Locale.ROOT, "%.1f MiB  (%,d bytes/policy)", bytes / 1048576.0, bytes / policies);
    }

    /** Heap in use once repeated full collections stop freeing anything. */
    private static long usedAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            long used = memory.getHeapMemoryUsage().getUsed();
            if (used >= last) {
                return used;
            }
            last = used;
        }
        return last;
    }
}
