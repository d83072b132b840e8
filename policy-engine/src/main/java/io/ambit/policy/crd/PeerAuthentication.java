package io.ambit.policy.crd;

import java.util.Map;

/**
 * A validated PeerAuthentication.
 *
 * @param mode          {@link MtlsMode#UNSET} when absent
 * @param portLevelMtls workload (target) port to mode; only on policies with a non-empty selector
 */
public record PeerAuthentication(
        PolicyMeta meta, Selector selector, MtlsMode mode, Map<Integer, MtlsMode> portLevelMtls) {
    public PeerAuthentication {
        portLevelMtls = Map.copyOf(portLevelMtls);
    }
}
