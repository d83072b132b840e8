package io.ambit.cli.process;

import io.ambit.policy.mesh.MeshConfig;
import java.util.List;

/** The mesh settings a cluster process starts its xDS client with. */
public final class ProcessMesh {
    private ProcessMesh() {}

    /**
     * Istio's defaults for {@code rootNamespace} and {@code trustDomain}: no trust-domain aliases, default
     * path normalization and time zone, no extension providers, extended conditions off.
     */
    public static MeshConfig config(String rootNamespace, String trustDomain) {
        return new MeshConfig(
                rootNamespace,
                trustDomain,
                List.of(),
                MeshConfig.DEFAULT.pathNormalization(),
                null,
                false,
                MeshConfig.DEFAULT.timeZone());
    }
}
