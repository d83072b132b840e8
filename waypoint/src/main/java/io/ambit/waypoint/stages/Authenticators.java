package io.ambit.waypoint.stages;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.waypoint.jwt.JwksCache;
import io.ambit.waypoint.jwt.JwtAuthenticator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link JwtAuthenticator} of each destination for the policy snapshot in force: built on first use
 * from exactly the jwtRules the engine judges with ({@link PolicySnapshot#jwtRules}), kept until a new
 * snapshot arrives, then rebuilt (keys stay in the shared {@link JwksCache}, so nothing is fetched again).
 * Lock-free reads; a request that still carries an older snapshot gets authenticators for that one.
 */
final class Authenticators {
    private static final Logger log = LoggerFactory.getLogger(Authenticators.class);

    /** The authenticators of one snapshot; as many as the destinations this waypoint serves. */
    private record Generation(
            PolicySnapshot policies, ConcurrentHashMap<AccessRequest.Destination, JwtAuthenticator> byDestination) {}

    private final JwksCache keys;
    private final AtomicReference<Generation> current = new AtomicReference<>();

    Authenticators(JwksCache keys) {
        this.keys = keys;
    }

    /** The authenticator for {@code destination} under {@code policies}. */
    JwtAuthenticator of(PolicySnapshot policies, AccessRequest.Destination destination) {
        Generation g = current.get();
        if (g == null || g.policies() != policies) {
            Generation fresh = new Generation(policies, new ConcurrentHashMap<>());
            if (!current.compareAndSet(g, fresh)) {
                Generation now = current.get(); // another request installed one meanwhile: the same snapshot?
                fresh = now != null && now.policies() == policies ? now : fresh;
            }
            // A late request with the previous snapshot may swap it back for a moment during a reload:
            // harmless, authenticators are cheap to build and keys stay cached.
            g = fresh;
        }
        return g.byDestination().computeIfAbsent(destination, d -> build(policies, d));
    }

    /** Builds the authenticators of {@code destination} now and starts fetching their keys (a new snapshot). */
    void warm(PolicySnapshot policies, AccessRequest.Destination destination) {
        of(policies, destination).warm();
    }

    private JwtAuthenticator build(PolicySnapshot policies, AccessRequest.Destination d) {
        var auth = JwtAuthenticator.of(policies.jwtRules(d), keys);
        for (String problem : auth.problems()) {
            log.warn("RequestAuthentication for {}/{}: {}", d.namespace(), d.service(), problem);
        }
        return auth;
    }
}
