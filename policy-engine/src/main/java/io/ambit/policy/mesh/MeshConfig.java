package io.ambit.policy.mesh;

import io.ambit.policy.path.PathNormalization;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
 * @param providers           the declared providers with their settings, in file order (the same names as
 *                            {@code extensionProviders}); null when not declared
 */
public record MeshConfig(
        String rootNamespace,
        String trustDomain,
        List<String> trustDomainAliases,
        PathNormalization pathNormalization,
        List<String> extensionProviders,
        boolean extendedConditions,
        ZoneId timeZone,
        List<ExtensionProvider> providers) {

    public static final MeshConfig DEFAULT = new MeshConfig(
            "istio-system", "cluster.local", List.of(), PathNormalization.BASE, null, false, ZoneId.of("UTC"));

    public MeshConfig {
        trustDomainAliases = List.copyOf(trustDomainAliases);
        if (providers != null && extensionProviders == null) {
            extensionProviders = providers.stream().map(ExtensionProvider::name).toList();
        }
        if (extensionProviders != null && providers == null) {
            var named = new ArrayList<ExtensionProvider>();
            extensionProviders.forEach(n -> named.add(new ExtensionProvider.Other(n, null)));
            providers = named;
        }
        extensionProviders = extensionProviders == null ? null : List.copyOf(extensionProviders);
        providers = providers == null ? null : List.copyOf(providers);
    }

    /** Settings without provider details: every named provider is {@link ExtensionProvider.Other}. */
    public MeshConfig(
            String rootNamespace,
            String trustDomain,
            List<String> trustDomainAliases,
            PathNormalization pathNormalization,
            List<String> extensionProviders,
            boolean extendedConditions,
            ZoneId timeZone) {
        this(
                rootNamespace,
                trustDomain,
                trustDomainAliases,
                pathNormalization,
                extensionProviders,
                extendedConditions,
                timeZone,
                null);
    }

    /** The declared provider of that name, if any. */
    public Optional<ExtensionProvider> provider(String name) {
        if (providers == null) {
            return Optional.empty();
        }
        for (ExtensionProvider p : providers) {
            if (p.name().equals(name)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Whether a CUSTOM policy's provider is known (always, when no providers were declared). */
    public boolean hasProvider(String name) {
        return extensionProviders == null || extensionProviders.contains(name);
    }
}
