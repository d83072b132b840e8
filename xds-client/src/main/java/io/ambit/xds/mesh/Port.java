package io.ambit.xds.mesh;

/**
 * One service port and the workload port it maps to ({@code ports: {80: 8080}} in the local file).
 *
 * @param servicePort the port clients call on the VIP, 1-65535
 * @param targetPort  the port the workload listens on, 1-65535
 */
public record Port(int servicePort, int targetPort) {
    public Port {
        if (servicePort < 1 || servicePort > 65535 || targetPort < 1 || targetPort > 65535) {
            throw new IllegalArgumentException("port " + servicePort + ": " + targetPort + " (expected: both 1-65535)");
        }
    }
}
