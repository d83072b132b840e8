package io.ambit.policy.engine;

/**
 * One ztunnel rule group: every clause must match. A clause with no matches matches; otherwise any
 * non-empty match must (empty matches were dropped when compiling, and a clause left with none never
 * matches).
 */
final class L4Group implements Matcher {
    final L4Match[][] clauses;
    /** The {@code from} clause, or null: what {@link RuleIndex} keys the group by. */
    final L4Match[] from;

    L4Group(L4Match[][] clauses, L4Match[] from) {
        this.clauses = clauses;
        this.from = from;
    }

    @Override
    public boolean test(EvalContext c) {
        outer:
        for (L4Match[] clause : clauses) {
            for (L4Match m : clause) {
                if (m.test(c)) {
                    continue outer;
                }
            }
            return false;
        }
        return true;
    }
}
