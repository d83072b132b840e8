package io.ambit.xds.mesh;

/**
 * Where a waypoint is reached (workload.proto's {@code GatewayAddress}): exactly one of an address or a
 * service hostname, and its HBONE port.
 *
 * @param address       the waypoint's IP, or null when {@code hostname} is set
 * @param hostname      the waypoint service, or null when {@code address} is set
 * @param hboneMtlsPort the port to tunnel to (15008 unless said otherwise)
 */
public record GatewayAddress(NetworkAddress address, NamespacedHostname hostname, int hboneMtlsPort) {
    /** The HBONE port ztunnel uses when none is given. */
    public static final int DEFAULT_HBONE_PORT = 15008;

    public GatewayAddress {
        if ((address == null) == (hostname == null)) {
            throw new IllegalArgumentException("exactly one of address and hostname must be set");
        }
        if (hboneMtlsPort < 1 || hboneMtlsPort > 65535) {
            throw new IllegalArgumentException("hboneMtlsPort " + hboneMtlsPort + " (expected: 1-65535)");
        }
    }
}
