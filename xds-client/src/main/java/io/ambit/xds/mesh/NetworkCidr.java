package io.ambit.xds.mesh;

import io.ambit.policy.match.Cidr;
import io.ambit.policy.match.IpAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * An address range within a network, as workload.proto's {@code NetworkAddress} with {@code length}
 * set below the address's bit length: a service owning a CIDR VIP (ztunnel-reference.md §8). A length
 * equal to the bit length (/32, /128) is a plain {@link NetworkAddress}, as ztunnel reads it, so exact
 * VIPs keep their meaning and their equality.
 *
 * <p>Written {@code 10.96.0.0/16}, {@code /10.96.0.0/16} or {@code net1/10.96.0.0/16} in the local file:
 * the text is a CIDR when it ends in {@code /N} with N all digits and the part before it, after the
 * network's slash, is an IP address. No IP address is all digits, so no text valid before CIDRs changes
 * meaning ({@code net1/16} was and stays an error).
 *
 * @param network the network name; empty for the default network
 * @param cidr    the range; its address never has host bits set (checked, not cleared: a VIP with host
 *                bits is a mistake to report, not to guess)
 */
public record NetworkCidr(String network, Cidr cidr) {
    public NetworkCidr {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(cidr, "cidr");
    }

    /**
     * A range from an address and a prefix length, as they come off the wire or out of the file.
     *
     * @throws IllegalArgumentException when the length is over 32 (IPv4) or 128 (IPv6), or the address
     *     has bits set after the prefix, naming both and what was expected
     */
    public static NetworkCidr of(String network, IpAddress address, int length) {
        IpAddress ip = address.unmap();
        if (length < 0 || length > ip.bitLength()) {
            throw new IllegalArgumentException("prefix length " + Integer.toUnsignedString(length) + " for " + ip
                    + " (expected: 0-" + ip.bitLength() + " for " + (ip.isV4() ? "IPv4" : "IPv6") + ")");
        }
        var cidr = new Cidr(ip, length);
        if (!cidr.address().equals(ip)) {
            throw new IllegalArgumentException(
                    ip + "/" + length + " has host bits set after the prefix (expected: " + cidr + ")");
        }
        return new NetworkCidr(network, cidr);
    }

    /** True when {@code address} is on this range's network and inside it. */
    public boolean contains(NetworkAddress address) {
        return network.equals(address.network()) && cidr.contains(address.ip());
    }

    public int prefixLength() {
        return cidr.prefixLength();
    }

    /** True for a /32 or /128: one address, which the mesh model holds as a {@link NetworkAddress}. */
    public boolean isSingleAddress() {
        return cidr.prefixLength() == cidr.address().bitLength();
    }

    /** The range's first address on its network (the only one when {@link #isSingleAddress()}). */
    public NetworkAddress address() {
        return new NetworkAddress(network, cidr.address());
    }

    /**
     * The CIDR a VIP text names, or empty when it has no {@code /N} suffix after an IP (then it is an
     * exact {@code network/ip}, for {@link NetworkAddress#parse}).
     *
     * @throws IllegalArgumentException when it has the CIDR shape but a bad length or host bits
     */
    public static Optional<NetworkCidr> parseIfCidr(String text) {
        int slash = text.lastIndexOf('/');
        if (slash < 0 || slash == text.length() - 1) {
            return Optional.empty();
        }
        for (int i = slash + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return Optional.empty();
            }
        }
        String head = text.substring(0, slash);
        int netSlash = head.lastIndexOf('/');
        var ip = IpAddress.tryParse(head.substring(netSlash + 1));
        if (ip.isEmpty()) {
            return Optional.empty();
        }
        String digits = text.substring(slash + 1);
        // more than 3 digits is over 128 whatever they are: no int overflow to guard against
        int length = digits.length() > 3 ? Integer.MAX_VALUE : Integer.parseInt(digits);
        String network = netSlash < 0 ? "" : head.substring(0, netSlash);
        if (length == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("is \"" + text + "\": prefix length " + digits + " (expected: 0-"
                    + ip.get().bitLength() + ")");
        }
        try {
            return Optional.of(of(network, ip.get(), length));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is \"" + text + "\": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return network + "/" + cidr;
    }
}
