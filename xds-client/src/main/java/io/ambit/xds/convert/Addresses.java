package io.ambit.xds.convert;

import com.google.protobuf.ByteString;
import io.ambit.policy.match.Cidr;
import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.NetworkCidr;

/** Raw 4- and 16-byte addresses as workload.proto and authorization.proto carry them. */
final class Addresses {
    private Addresses() {}

    /**
     * @throws IllegalArgumentException naming the length found when it is neither 4 nor 16
     */
    static IpAddress ip(ByteString raw) {
        int n = raw.size();
        if (n == 4) {
            return IpAddress.ofV4(((raw.byteAt(0) & 0xff) << 24)
                    | ((raw.byteAt(1) & 0xff) << 16)
                    | ((raw.byteAt(2) & 0xff) << 8)
                    | (raw.byteAt(3) & 0xff));
        }
        if (n == 16) {
            long hi = 0;
            long lo = 0;
            for (int i = 0; i < 8; i++) {
                hi = (hi << 8) | (raw.byteAt(i) & 0xff);
                lo = (lo << 8) | (raw.byteAt(i + 8) & 0xff);
            }
            return IpAddress.ofV6(hi, lo);
        }
        throw new IllegalArgumentException("address of " + n + " bytes (expected: 4 for IPv4 or 16 for IPv6)");
    }

    /** A workload or VIP address; IPv4-mapped IPv6 is stored as IPv4, as everywhere in the mesh model. */
    static NetworkAddress network(String network, ByteString raw) {
        return new NetworkAddress(network, ip(raw).unmap());
    }

    /**
     * A service address of workload.proto: one address, or a range when {@code length} is
     * below the address's bit length; a null length is one not set.
     *
     * @throws IllegalArgumentException naming the address and length when the length is over the family's
     *     or the address has host bits set after the prefix
     */
    static NetworkCidr vip(String network, ByteString raw, Integer length) {
        IpAddress ip = ip(raw);
        if (length == null) {
            return NetworkCidr.of(network, ip.unmap(), ip.unmap().bitLength());
        }
        int bits = raw.size() * 8;
        if (Integer.compareUnsigned(length, bits) > 0) {
            throw new IllegalArgumentException("prefix length " + Integer.toUnsignedString(length) + " for " + ip
                    + " (expected: 0-" + bits + " for " + (bits == 32 ? "IPv4" : "IPv6") + ")");
        }
        if (ip.isV4Mapped()) {
            // an IPv4-mapped address is stored as IPv4, so its range is the IPv4 range it maps
            if (length < 96) {
                throw new IllegalArgumentException("prefix length " + length + " for IPv4-mapped " + ip.unmap()
                        + " (expected: 96-128, a range of IPv4 addresses)");
            }
            return NetworkCidr.of(network, ip.unmap(), length - 96);
        }
        return NetworkCidr.of(network, ip, length);
    }

    /**
     * A CIDR of authorization.proto. The family is kept as sent (an IPv6 block never holds an IPv4
     * address, as in ztunnel); host bits are cleared.
     *
     * @throws IllegalArgumentException naming the address and length when they do not fit
     */
    static Cidr cidr(ByteString raw, int length) {
        IpAddress ip = ip(raw);
        if (length < 0 || length > ip.bitLength()) {
            throw new IllegalArgumentException("prefix length " + Integer.toUnsignedString(length) + " for " + ip
                    + " (expected: 0-" + ip.bitLength() + ")");
        }
        return new Cidr(ip, length);
    }

    /** Wire bytes of an address, for the way back (the local control plane). */
    static ByteString bytes(IpAddress ip) {
        if (ip.isV4()) {
            int v = ip.v4();
            return ByteString.copyFrom(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        }
        byte[] b = new byte[16];
        long hi = ip.hi();
        long lo = ip.lo();
        for (int i = 7; i >= 0; i--) {
            b[i] = (byte) hi;
            b[i + 8] = (byte) lo;
            hi >>>= 8;
            lo >>>= 8;
        }
        return ByteString.copyFrom(b);
    }
}
