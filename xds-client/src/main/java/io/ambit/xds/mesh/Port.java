package io.ambit.xds.mesh;

/**
 * One service port and the workload port it maps to ({@code ports: {80: 8080}} in the local file).
 *
 * <p>A target port of 0 comes only from istiod: a service whose {@code targetPort} is a port <em>name</em>
 * is sent with target 0 and each endpoint's own port map says the number. A reader that finds 0 after
 * consulting the endpoint has no port to dial and must refuse the connection. The local file never
 * produces 0.
 *
 * @param servicePort the port clients call on the VIP, 1-65535
 * @param targetPort  the port the workload listens on, 1-65535, or 0 (see above)
 */
public record Port(int servicePort, int targetPort) {
    public Port {
        if (servicePort < 1 || servicePort > 65535 || targetPort < 0 || targetPort > 65535) {
            throw new IllegalArgumentException("port " + servicePort + ": " + targetPort
                    + " (expected: service port 1-65535, target port 0-65535)");
        }
    }
}
