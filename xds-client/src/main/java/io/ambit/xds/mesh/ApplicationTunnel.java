package io.ambit.xds.mesh;

/**
 * How a workload that understands tunnels (a sandwiched waypoint) wants inbound traffic handed over
 * (workload.proto's {@code ApplicationTunnel}).
 *
 * @param protocol {@link Protocol#NONE}: the inner bytes as they are; {@link Protocol#PROXY}: prefixed with
 *     a PROXY protocol header carrying the source identity
 * @param port     the port to deliver to after the last ztunnel hop; 0 keeps the original one
 */
public record ApplicationTunnel(Protocol protocol, int port) {
    public ApplicationTunnel {
        if (protocol == null) {
            throw new IllegalArgumentException("protocol must be set");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " (expected: 0-65535, 0 for the original port)");
        }
    }

    public enum Protocol {
        NONE,
        PROXY
    }
}
