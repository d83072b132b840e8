package io.ambit.waypoint.ratelimit;

import java.util.concurrent.ThreadLocalRandom;

/** Decides whether one request falls inside a {@link Fraction} (injected so that tests can pin it). */
@FunctionalInterface
public interface Sampler {
    boolean sample(Fraction f);

    /** A fresh random draw per request, as Envoy's runtime fractional percent. */
    Sampler RANDOM =
            f -> f.always() || (!f.never() && ThreadLocalRandom.current().nextLong(f.denominator()) < f.numerator());
}
