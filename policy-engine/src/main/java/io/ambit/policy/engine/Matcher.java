package io.ambit.policy.engine;

/** A compiled predicate over one connection or request. Stateless and shared between threads. */
@FunctionalInterface
interface Matcher {
    Matcher ANY = c -> true;
    Matcher NEVER = c -> false;

    boolean test(EvalContext c);

    /** All of them (an empty array matches everything). */
    static Matcher all(Matcher[] ms) {
        return switch (ms.length) {
            case 0 -> ANY;
            case 1 -> ms[0];
            case 2 -> {
                Matcher a = ms[0], b = ms[1];
                yield c -> a.test(c) && b.test(c);
            }
            default ->
                c -> {
                    for (Matcher m : ms) {
                        if (!m.test(c)) {
                            return false;
                        }
                    }
                    return true;
                };
        };
    }

    /** Any of them (an empty array matches nothing). */
    static Matcher any(Matcher[] ms) {
        return switch (ms.length) {
            case 0 -> NEVER;
            case 1 -> ms[0];
            default ->
                c -> {
                    for (Matcher m : ms) {
                        if (m.test(c)) {
                            return true;
                        }
                    }
                    return false;
                };
        };
    }
}
