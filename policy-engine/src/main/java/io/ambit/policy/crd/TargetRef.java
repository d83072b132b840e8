package io.ambit.policy.crd;

/**
 * One entry of {@code targetRefs} (or the deprecated singular {@code targetRef}).
 *
 * @param group     API group; {@code ""} for core
 * @param kind      {@code Service}, {@code Gateway}, {@code GatewayClass} or {@code ServiceEntry}
 * @param name      object name
 * @param namespace explicit namespace, or null; a namespace other than the policy's never matches
 */
public record TargetRef(String group, String kind, String name, String namespace) {
    public static final String GATEWAY_API = "gateway.networking.k8s.io";
    public static final String NETWORKING_ISTIO = "networking.istio.io";
    public static final String WAYPOINT_CLASS = "istio-waypoint";

    public boolean isService() {
        return kind.equals("Service") && (group.isEmpty() || group.equals("core"));
    }

    public boolean isGateway() {
        return kind.equals("Gateway") && group.equals(GATEWAY_API);
    }

    public boolean isGatewayClass() {
        return kind.equals("GatewayClass") && group.equals(GATEWAY_API);
    }

    public boolean isServiceEntry() {
        return kind.equals("ServiceEntry") && group.equals(NETWORKING_ISTIO);
    }
}
