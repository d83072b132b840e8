package io.ambit.policy.mesh;

import io.ambit.policy.path.PathNormalization;
import java.time.ZoneId;
import java.util.List;

/**
 * The mesh-wide settings that change what a policy means.
 *
 * @param rootNamespace       policies here without a selector apply mesh-wide ({@code istio-system})
 * @param trustDomain         the local trust domain ({@code cluster.local})
 * @param trustDomainAliases  other trust domains treated as local at L7 (authz-semantics §2.9)
 * @param pathNormalization   how request paths are normalized before matching ({@code BASE})
 * @param extensionProviders  names of CUSTOM providers; null when not declared, in which case every
 *                            referenced provider is assumed to exist
 * @param extendedConditions  Ambit's extended conditions on for every policy
 * @param timeZone            zone for the extended time-of-day and day-of-week conditions
 */
public record MeshConfig(
        String rootNamespace,
        String trustDomain,
        List<String> trustDomainAliases,
        PathNormalization pathNormalization,
        List<String> extensionProviders,
        boolean extendedConditions,
        ZoneId timeZone) {

    public static final MeshConfig DEFAULT = new MeshConfig(
            "istio-system", "cluster.local", List.of(), PathNormalization.BASE, null, false, ZoneId.of("UTC"));

    public MeshConfig {
        trustDomainAliases = List.copyOf(trustDomainAliases);
        extensionProviders = extensionProviders == null ? null : List.copyOf(extensionProviders);
    }

    /** Whether a CUSTOM policy's provider is known (always, when no providers were declared). */
    public boolean hasProvider(String name) {
        return extensionProviders == null || extensionProviders.contains(name);
    }
}
