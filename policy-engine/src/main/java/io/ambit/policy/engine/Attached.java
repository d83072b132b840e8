package io.ambit.policy.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * A bucket of policies that apply together (one index entry), split by action when the snapshot is
 * built so that a decision never sorts or filters: it walks the few buckets that apply to its target.
 */
final class Attached {
    static final CompiledPolicy[] NONE = new CompiledPolicy[0];

    final CompiledPolicy[] custom;
    final CompiledPolicy[] deny;
    final CompiledPolicy[] allow;
    final CompiledPolicy[] audit;
    final CompiledPolicy[] dryRun;
    /** Inverted rule indexes for large ztunnel buckets; null when scanning is cheaper. */
    final RuleIndex denyIndex;

    final RuleIndex allowIndex;

    Attached(List<CompiledPolicy> policies) {
        var c = new ArrayList<CompiledPolicy>();
        var d = new ArrayList<CompiledPolicy>();
        var a = new ArrayList<CompiledPolicy>();
        var au = new ArrayList<CompiledPolicy>();
        var dr = new ArrayList<CompiledPolicy>();
        for (CompiledPolicy p : policies) {
            if (p.dryRun) {
                dr.add(p);
                continue;
            }
            switch (p.action) {
                case CUSTOM -> c.add(p);
                case DENY -> d.add(p);
                case ALLOW -> a.add(p);
                case AUDIT -> au.add(p);
            }
        }
        custom = arr(c);
        deny = arr(d);
        allow = arr(a);
        audit = arr(au);
        dryRun = arr(dr);
        denyIndex = RuleIndex.build(deny);
        allowIndex = RuleIndex.build(allow);
    }

    private static CompiledPolicy[] arr(List<CompiledPolicy> l) {
        return l.isEmpty() ? NONE : l.toArray(CompiledPolicy[]::new);
    }
}
