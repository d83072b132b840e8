package io.ambit.policy.match;

import java.util.Objects;

/**
 * A CIDR block: an address and a prefix length, as written in {@code ipBlocks}, {@code
 * notIpBlocks}, {@code remoteIpBlocks}, {@code source.ip}, {@code remote.ip} and {@code
 * destination.ip} (authz-semantics §2.4).
 *
 * <p>The canonical constructor clears the host bits, so {@code 10.0.0.1/24} and {@code 10.0.0.0/24}
 * are the same block and compare equal. istiod accepts host bits (Go's {@code netip.ParsePrefix}
 * keeps them) and Envoy's {@code CidrRange} masks them, so masking here gives the data-plane meaning.
 *
 * <p>The address keeps the family it is written in: {@code ::ffff:10.0.0.0/104} is an IPv6 block
 * and, like every IPv6 block, never contains an IPv4 address — the same as in Go, Envoy and ztunnel,
 * which all compare families first. Since {@link IpAddress#parse} turns a mapped address into IPv4,
 * such a block in practice matches nothing; the policy compiler may want to warn about it.
 *
 * @param address the network address, host bits cleared
 * @param prefixLength 0..32 for IPv4, 0..128 for IPv6
 */
public record Cidr(IpAddress address, int prefixLength) {

    private static final String EXPECTED = "expected an IP address, or address/length like 10.0.0.0/8 or fd00::/8";

    /**
     * Checks the prefix length against the family and clears the host bits.
     *
     * @throws IllegalArgumentException if the prefix length is outside 0..32 (IPv4) or 0..128 (IPv6)
     */
    public Cidr {
        Objects.requireNonNull(address, "address");
        if (prefixLength < 0 || prefixLength > address.bitLength()) {
            throw new IllegalArgumentException("prefixLength: " + prefixLength + " (expected 0.." + address.bitLength()
                    + " for " + (address.isV4() ? "IPv4" : "IPv6") + " " + address + ")");
        }
        address = address.masked(prefixLength);
    }

    /** The block holding exactly {@code address}: a /32 or a /128. */
    public static Cidr of(IpAddress address) {
        return new Cidr(address, address.bitLength());
    }

    /**
     * Parses {@code addr} (a single address: /32 or /128) or {@code addr/len}. The address follows
     * {@link IpAddress} (strict, no zone ids, no brackets) except that its family is kept as written;
     * the length is a decimal 0..32 or 0..128 without sign or leading zero (as {@code
     * netip.ParsePrefix}); host bits are accepted and cleared.
     *
     * @throws IllegalArgumentException naming the text, the reason and what was expected, e.g. {@code
     *     "10.0.0.0/33" is not a CIDR block: prefix length 33 is over 32 for IPv4 (expected ...)}
     * @throws NullPointerException if {@code text} is null
     */
    public static Cidr parse(String text) {
        Objects.requireNonNull(text, "text");
        int slash = text.indexOf('/');
        try {
            IpAddress address = IpAddress.parseLiteral(text, 0, slash < 0 ? text.length() : slash);
            if (slash < 0) {
                return of(address);
            }
            return new Cidr(address, parsePrefixLength(text, slash + 1, address));
        } catch (IpAddress.Malformed e) {
            throw new IllegalArgumentException(
                    IpAddress.quote(text) + " is not a CIDR block: " + e.getMessage() + " (" + EXPECTED + ")");
        }
    }

    private static int parsePrefixLength(String text, int from, IpAddress address) throws IpAddress.Malformed {
        int to = text.length();
        if (from == to) {
            throw new IpAddress.Malformed("the prefix length after '/' is missing");
        }
        String digits = text.substring(from);
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                throw new IpAddress.Malformed("prefix length " + IpAddress.quote(digits) + " is not a decimal number");
            }
        }
        if (to - from > 1 && text.charAt(from) == '0') {
            throw new IpAddress.Malformed("prefix length " + IpAddress.quote(digits) + " has a leading zero");
        }
        int max = address.bitLength();
        // More than 3 digits is over 128 whatever they are, and parsing them could overflow an int.
        if (to - from > 3 || Integer.parseInt(digits) > max) {
            String shown = digits.length() > 12 ? digits.substring(0, 12) + "..." : digits;
            throw new IpAddress.Malformed(
                    "prefix length " + shown + " is over " + max + " for " + (address.isV4() ? "IPv4" : "IPv6"));
        }
        return Integer.parseInt(digits);
    }

    /** True for an IPv4 block. */
    public boolean isV4() {
        return address.isV4();
    }

    /**
     * True if {@code a} lies in this block. An IPv4 address is never in an IPv6 block and vice versa;
     * {@code null} is in no block. Allocates nothing.
     */
    public boolean contains(IpAddress a) {
        if (a == null || a.isV4() != address.isV4()) {
            return false;
        }
        if (a.isV4()) {
            return ((a.v4() ^ address.v4()) & IpAddress.v4Mask(prefixLength)) == 0;
        }
        return ((a.hi() ^ address.hi()) & IpAddress.hiMask(prefixLength)) == 0
                && ((a.lo() ^ address.lo()) & IpAddress.loMask(prefixLength)) == 0;
    }

    /** {@code address/length} in canonical form, e.g. {@code 10.0.0.0/8}, {@code fd00::/8}. */
    @Override
    public String toString() {
        return address + "/" + prefixLength;
    }
}
