package io.ambit.ztunnel.fuzz;

/**
 * The fixed seed of the ztunnel property tests, so a failure reproduces everywhere; tries are jqwik's
 * default (1000) unless {@code -Djqwik.tries.default=N} asks for a longer run.
 */
final class FuzzInputs {
    /** The fixed seed: change it (or run longer) to explore other inputs; never leave CI on a random one. */
    static final String SEED = "4206120261122";

    private FuzzInputs() {}
}
