package io.ambit.waypoint.stages;

import io.ambit.policy.mesh.MeshConfig;
import io.ambit.waypoint.ratelimit.LocalRateLimit;
import io.ambit.waypoint.ratelimit.RateLimitLoader;
import io.ambit.xds.mesh.MeshExtension;
import java.util.List;
import java.util.Map;

/**
 * Lets a local mesh file carry the waypoint's rate limits: the article's {@code EnvoyFilter}
 * ({@code envoy.filters.http.local_ratelimit}, networking.istio.io) and Ambit's {@code LocalRateLimit}
 * (ambit.io), read by {@link RateLimitLoader} with its errors (file, line, object, field), which refuse the
 * file so the last good limits keep serving. The limits travel in the mesh state
 * ({@code state.extension(RateLimitSet.class)}), so an edit applies with the next state, without a
 * restart. Registered for {@link java.util.ServiceLoader} in {@code META-INF/services}.
 */
public final class RateLimitDocuments implements MeshExtension<RateLimitDocuments.RateLimitSet> {

    /** The rate limits a mesh file declares (empty when it declares none). */
    public record RateLimitSet(List<LocalRateLimit> limits) {
        public static final RateLimitSet NONE = new RateLimitSet(List.of());

        public RateLimitSet {
            limits = List.copyOf(limits);
        }
    }

    private static final Map<String, String> KINDS =
            Map.of("EnvoyFilter", "networking.istio.io/", "LocalRateLimit", "ambit.io/");

    @Override
    public Class<RateLimitSet> type() {
        return RateLimitSet.class;
    }

    @Override
    public Map<String, String> kinds() {
        return KINDS;
    }

    @Override
    public Result<RateLimitSet> read(String text, String fileName, MeshConfig mesh) {
        var r = new RateLimitLoader(mesh.rootNamespace()).text(text, fileName).result();
        return new Result<>(new RateLimitSet(r.limits()), r.errors(), r.warnings());
    }
}
