package io.ambit.waypoint.ingress;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Service;

/**
 * What a tunnel into the waypoint is for: the service (by VIP and port) the client's ztunnel sent to this
 * waypoint. Every request on the tunnel goes to this service, whatever its {@code Host} header says:
 * routing follows the original destination, as Istio's waypoint does, so a forged Host cannot reach
 * another service.
 *
 * @param service the destination service
 * @param vip the VIP the client dialed
 * @param servicePort the service port the client dialed
 * @param targetPort the service's target port for it (an endpoint may override it)
 * @param destination how the policy engine names the target: the Service and this waypoint's Gateway,
 *     to which policies attach by targetRefs
 */
public record Target(
        Service service, NetworkAddress vip, int servicePort, int targetPort, AccessRequest.Destination destination) {

    /** {@code name.namespace}, e.g. for logs. */
    @Override
    public String toString() {
        return service.hostname() + ":" + servicePort;
    }
}
