package io.ambit.xds.mesh;

import io.ambit.policy.match.IpAddress;
import java.util.Objects;

/**
 * An IP address within a network, as workload.proto's {@code NetworkAddress}: the same IP may exist
 * once per network. Written {@code network/ip} in the local file ({@code /127.10.0.1} for the default,
 * unnamed network), as ztunnel writes it.
 *
 * @param network the network name; empty for the default network
 * @param ip      the address; IPv4-mapped IPv6 addresses are stored as IPv4
 */
public record NetworkAddress(String network, IpAddress ip) {
    public NetworkAddress {
        Objects.requireNonNull(network, "network");
        ip = Objects.requireNonNull(ip, "ip").unmap();
    }

    /** An address on the default network. */
    public static NetworkAddress of(IpAddress ip) {
        return new NetworkAddress("", ip);
    }

    /**
     * Parses {@code network/ip} or a bare IP (default network).
     *
     * @throws IllegalArgumentException saying what was expected
     */
    public static NetworkAddress parse(String text) {
        int slash = text.lastIndexOf('/');
        String net = slash < 0 ? "" : text.substring(0, slash);
        String ip = slash < 0 ? text : text.substring(slash + 1);
        var parsed = IpAddress.tryParse(ip)
                .orElseThrow(() -> new IllegalArgumentException("is \"" + text
                        + "\" (expected: network/ip such as /127.10.0.1 or net1/10.0.0.1, or a bare IP)"));
        return new NetworkAddress(net, parsed);
    }

    @Override
    public String toString() {
        return network + "/" + ip;
    }
}
