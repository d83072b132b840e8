package io.ambit.policy.match;

import java.io.Serial;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * An IPv4 or IPv6 address as an immutable value, parsed strictly from its literal text.
 *
 * <p>The address is held in two {@code long}s so that matching ({@link Cidr#contains}, {@link
 * CidrSet#contains}) is plain arithmetic and allocates nothing: an IPv4 address is {@link #v4()}, an
 * IPv6 address is {@link #hi()} (bits 127..64) and {@link #lo()} (bits 63..0), both big-endian.
 *
 * <h2>What {@link #parse} accepts</h2>
 *
 * <ul>
 *   <li>IPv4: exactly four decimal octets 0..255 separated by dots. <b>Leading zeros are rejected</b>
 *       ({@code 010.0.0.1}), as Go's {@code net/netip} does for istiod's validation and Rust's {@code
 *       std::net} does for ztunnel: elsewhere such text may mean octal, so it has no single meaning.
 *       The {@code inet_aton} short forms ({@code 10.1}, {@code 167772161}, {@code 0x0a.0.0.1}) are
 *       rejected for the same reason.
 *   <li>IPv6: every RFC 4291 §2.2 text form: eight groups of 1..4 hex digits (either case), one
 *       {@code ::} standing for at least one zero group, and an embedded dotted quad as the last 32
 *       bits ({@code ::ffff:10.0.0.1}, {@code 64:ff9b::192.0.2.33}).
 *   <li>Never: host names (nothing is ever resolved), surrounding or inner whitespace, signs, zone
 *       ids ({@code fe80::1%eth0} — a zone names a local interface and means nothing in a policy),
 *       brackets ({@code [::1]}), or a {@code /length} (that is a {@link Cidr}).
 * </ul>
 *
 * <h2>IPv4-mapped IPv6 addresses</h2>
 *
 * <p>{@link #parse}, {@link #tryParse} and {@link #of(InetAddress)} turn an IPv4-mapped address
 * ({@code ::ffff:a.b.c.d}, in any spelling) into the IPv4 address {@code a.b.c.d}. These methods
 * produce the addresses that get <em>looked up</em> — peers and destinations of connections — and a
 * peer that reaches a dual-stack socket as {@code ::ffff:10.0.0.1} is an IPv4 peer: ztunnel
 * canonicalizes it ({@code socket::to_canonical}), Envoy converts it when reading the socket
 * address, and the JDK's {@link InetAddress} does the same. A {@link Cidr} on the other hand keeps
 * the family in which it is written (see there). {@link #ofV6} keeps whatever bits it is given, and
 * {@link #unmap()} converts explicitly.
 *
 * <p>{@link #toString()} gives the canonical text: dotted quad for IPv4, RFC 5952 for IPv6 (lower
 * case, no leading zeros, the longest run of two or more zero groups — the first on a tie — written
 * {@code ::}, and an IPv4-mapped address as {@code ::ffff:a.b.c.d}).
 */
public final class IpAddress {

    static final String EXPECTED_ADDRESS = "expected IPv4 like 10.0.0.1 or IPv6 like fd00::1";

    /** Upper 16 bits of {@link #lo} for an IPv4-mapped IPv6 address, whose {@link #hi} is 0. */
    private static final long MAPPED_PREFIX = 0xffffL;

    private final boolean v4;
    // IPv4: hi == 0 and the address zero-extended in lo, so equals/hashCode need no special case.
    private final long hi;
    private final long lo;

    private IpAddress(boolean v4, long hi, long lo) {
        this.v4 = v4;
        this.hi = hi;
        this.lo = lo;
    }

    /**
     * Parses an IPv4 or IPv6 literal (see the class comment for the exact grammar); an IPv4-mapped
     * IPv6 literal yields the IPv4 address.
     *
     * @throws IllegalArgumentException naming the text, the reason and what was expected, e.g. {@code
     *     "10.0.0.300" is not an IP address: IPv4 octet 300 is over 255 (expected IPv4 like 10.0.0.1 or
     *     IPv6 like fd00::1)}
     * @throws NullPointerException if {@code text} is null
     */
    public static IpAddress parse(String text) {
        Objects.requireNonNull(text, "text");
        try {
            return parseLiteral(text, 0, text.length()).unmap();
        } catch (Malformed e) {
            throw new IllegalArgumentException(
                    quote(text) + " is not an IP address: " + e.getMessage() + " (" + EXPECTED_ADDRESS + ")");
        }
    }

    /** Like {@link #parse}, but empty for null or malformed text instead of throwing. */
    public static Optional<IpAddress> tryParse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(parseLiteral(text, 0, text.length()).unmap());
        } catch (Malformed e) {
            return Optional.empty();
        }
    }

    /** The IPv4 address whose 32 bits, big-endian, are {@code bits} ({@code 0x0a000001} is 10.0.0.1). */
    public static IpAddress ofV4(int bits) {
        return new IpAddress(true, 0, bits & 0xffff_ffffL);
    }

    /**
     * The IPv6 address with bits 127..64 in {@code hi} and 63..0 in {@code lo}. The bits are kept as
     * given: an IPv4-mapped value stays IPv6 (call {@link #unmap()} to convert).
     */
    public static IpAddress ofV6(long hi, long lo) {
        return new IpAddress(false, hi, lo);
    }

    /**
     * The address of a JDK {@link InetAddress} (no lookup happens). An IPv6 scope id is dropped and an
     * IPv4-mapped IPv6 address becomes IPv4, as in {@link #parse}.
     */
    public static IpAddress of(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return ofV4(((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff));
        }
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | (b[i] & 0xff);
            lo = (lo << 8) | (b[i + 8] & 0xff);
        }
        return ofV6(hi, lo).unmap();
    }

    /**
     * This address as a JDK {@link InetAddress}, built from its bytes: no lookup and no text round trip
     * (so no resolver is ever asked, whatever the platform's idea of a literal). An IPv4-mapped IPv6
     * address comes back as an {@link Inet4Address}, as the JDK makes it.
     */
    public InetAddress toInetAddress() {
        byte[] b;
        if (v4) {
            int bits = (int) lo;
            b = new byte[] {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits};
        } else {
            b = new byte[16];
            for (int i = 0; i < 8; i++) {
                b[i] = (byte) (hi >>> (56 - 8 * i));
                b[i + 8] = (byte) (lo >>> (56 - 8 * i));
            }
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    /** True for IPv4, false for IPv6. */
    public boolean isV4() {
        return v4;
    }

    /** 32 for IPv4, 128 for IPv6: the longest prefix length of the family. */
    public int bitLength() {
        return v4 ? 32 : 128;
    }

    /**
     * The 32 bits of an IPv4 address, big-endian.
     *
     * @throws IllegalStateException for an IPv6 address
     */
    public int v4() {
        if (!v4) {
            throw new IllegalStateException(this + " is IPv6 (expected IPv4; check isV4() first)");
        }
        return (int) lo;
    }

    /**
     * Bits 127..64 of an IPv6 address.
     *
     * @throws IllegalStateException for an IPv4 address
     */
    public long hi() {
        requireV6();
        return hi;
    }

    /**
     * Bits 63..0 of an IPv6 address.
     *
     * @throws IllegalStateException for an IPv4 address
     */
    public long lo() {
        requireV6();
        return lo;
    }

    private void requireV6() {
        if (v4) {
            throw new IllegalStateException(this + " is IPv4 (expected IPv6; check isV4() first)");
        }
    }

    /** True for an IPv6 address in {@code ::ffff:0:0/96}, which only {@link #ofV6} and {@link Cidr} produce. */
    public boolean isV4Mapped() {
        return !v4 && hi == 0 && (lo >>> 32) == MAPPED_PREFIX;
    }

    /** The IPv4 address for an IPv4-mapped IPv6 address; otherwise this address. */
    public IpAddress unmap() {
        return isV4Mapped() ? ofV4((int) lo) : this;
    }

    /** This address with every bit after the first {@code prefixLength} cleared; the caller checks the range. */
    IpAddress masked(int prefixLength) {
        return v4
                ? new IpAddress(true, 0, lo & (v4Mask(prefixLength) & 0xffff_ffffL))
                : new IpAddress(false, hi & hiMask(prefixLength), lo & loMask(prefixLength));
    }

    // Java shifts by the distance mod 32/64, so -1 << 32 is -1, not 0: the full and empty masks are
    // the cases the expressions below must special-case.

    /** IPv4 netmask of a prefix length 0..32. */
    static int v4Mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    /** Netmask for bits 127..64 of a prefix length 0..128. */
    static long hiMask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1L << (64 - Math.min(prefixLength, 64));
    }

    /** Netmask for bits 63..0 of a prefix length 0..128. */
    static long loMask(int prefixLength) {
        return prefixLength <= 64 ? 0 : -1L << (128 - prefixLength);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpAddress other && v4 == other.v4 && hi == other.hi && lo == other.lo;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hi * 31 + lo) * 31 + (v4 ? 1 : 0);
    }

    /** The canonical text: dotted quad, or RFC 5952 for IPv6. {@link #parse} reads it back. */
    @Override
    public String toString() {
        if (v4) {
            return v4Text((int) lo);
        }
        if (isV4Mapped()) {
            // RFC 5952 §5: mapped addresses are written with the IPv4 part as a dotted quad.
            return "::ffff:" + v4Text((int) lo);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 4; i++) {
            groups[i] = (int) (hi >>> (48 - 16 * i)) & 0xffff;
            groups[i + 4] = (int) (lo >>> (48 - 16 * i)) & 0xffff;
        }
        // RFC 5952 §4.2: compress the longest run of at least two zero groups, the first one on a tie.
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && groups[i] == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; ) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength;
                continue;
            }
            if (i > 0 && i != bestStart + bestLength) {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
            i++;
        }
        return sb.toString();
    }

    private static String v4Text(int bits) {
        return (bits >>> 24) + "." + ((bits >>> 16) & 0xff) + "." + ((bits >>> 8) & 0xff) + "." + (bits & 0xff);
    }

    // ---------------------------------------------------------------------------------------------
    // Parsing. Works on a range of the caller's string so that Cidr can parse "addr/len" without a
    // substring and report offsets within the whole text. Keeps the family as written (no unmap).

    /**
     * Why a literal was rejected: a short clause without the text, which the caller wraps into a
     * message naming the whole text. Stackless because it is control flow, also for {@link #tryParse}.
     */
    static final class Malformed extends Exception {
        @Serial
        private static final long serialVersionUID = 1L;

        Malformed(String reason) {
            super(reason, null, false, false);
        }
    }

    /** Parses {@code s[from, to)} as an address literal, keeping an IPv4-mapped address IPv6. */
    static IpAddress parseLiteral(String s, int from, int to) throws Malformed {
        if (from == to) {
            throw new Malformed("the address is empty");
        }
        boolean colon = false;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == ':') {
                colon = true;
            } else if (c == '%') {
                throw new Malformed("zone ids like %eth0 are not allowed");
            } else if (c == '[' || c == ']') {
                throw new Malformed("brackets are not allowed");
            } else if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                throw new Malformed("whitespace is not allowed");
            }
        }
        if (colon) {
            return parseV6(s, from, to);
        }
        if (isAsciiLetter(s.charAt(from))) {
            throw new Malformed("host names are never resolved; write the numeric address");
        }
        return ofV4(parseV4(s, from, to));
    }

    /** Parses exactly a dotted quad filling {@code s[from, to)}. */
    private static int parseV4(String s, int from, int to) throws Malformed {
        int bits = 0;
        int i = from;
        for (int octet = 0; octet < 4; octet++) {
            if (octet > 0) {
                if (i == to) {
                    throw new Malformed("IPv4 needs 4 decimal octets separated by dots");
                }
                if (s.charAt(i) != '.') {
                    throw unexpected(s, i);
                }
                i++;
            }
            int start = i;
            while (i < to && isAsciiDigit(s.charAt(i))) {
                i++;
            }
            int digits = i - start;
            if (digits == 0) {
                throw i == to ? new Malformed("IPv4 needs 4 decimal octets separated by dots") : unexpected(s, i);
            }
            if (digits > 1 && s.charAt(start) == '0') {
                throw new Malformed("IPv4 octet " + quote(s.substring(start, i))
                        + " has a leading zero (ambiguous: some parsers read it as octal)");
            }
            if (digits > 3) {
                throw new Malformed("IPv4 octet " + quote(s.substring(start, i)) + " is over 255");
            }
            int value = Integer.parseInt(s, start, i, 10);
            if (value > 255) {
                throw new Malformed("IPv4 octet " + value + " is over 255");
            }
            bits = (bits << 8) | value;
        }
        if (i < to) {
            throw s.charAt(i) == '.' ? new Malformed("IPv4 has more than 4 octets") : unexpected(s, i);
        }
        return bits;
    }

    /** Parses an IPv6 literal filling {@code s[from, to)}; the caller has ruled out %, brackets, space. */
    private static IpAddress parseV6(String s, int from, int to) throws Malformed {
        int[] groups = new int[8];
        int n = 0;
        int ellipsis = -1; // index in groups where "::" stands, or -1
        int i = from;
        if (s.charAt(i) == ':') {
            if (i + 1 == to || s.charAt(i + 1) != ':') {
                throw new Malformed("IPv6 cannot start with a single ':'");
            }
            ellipsis = 0;
            i += 2;
        }
        while (i < to) {
            int start = i;
            int value = 0;
            for (int d; i < to && (d = hexValue(s.charAt(i))) >= 0; i++) {
                if (i - start == 4) {
                    throw new Malformed("IPv6 group " + quote(hexRun(s, start, to)) + " has more than 4 hex digits");
                }
                value = (value << 4) | d;
            }
            if (i < to && s.charAt(i) == '.') {
                // An embedded dotted quad fills the last two groups, so it must end the text and
                // leave exactly 6 groups before it (fewer only if "::" makes up the rest).
                if (n > 6 || (ellipsis < 0 && n != 6)) {
                    throw new Malformed("an embedded IPv4 address must be the last 32 bits of the IPv6 address");
                }
                int bits = parseV4(s, start, to);
                groups[n++] = bits >>> 16;
                groups[n++] = bits & 0xffff;
                break;
            }
            if (i == start) {
                throw unexpected(s, i);
            }
            if (n == 8) {
                throw new Malformed("IPv6 has more than 8 groups");
            }
            groups[n++] = value;
            if (i == to) {
                break;
            }
            if (s.charAt(i) != ':') {
                throw unexpected(s, i);
            }
            i++;
            if (i == to) {
                throw new Malformed("IPv6 cannot end with a single ':'");
            }
            if (s.charAt(i) == ':') {
                if (ellipsis >= 0) {
                    throw new Malformed("\"::\" may appear only once");
                }
                ellipsis = n;
                i++;
            }
        }
        if (n < 8) {
            if (ellipsis < 0) {
                throw new Malformed("IPv6 needs 8 groups, or \"::\" for a run of zero groups");
            }
            // Move the groups after "::" to the end; what lies between stays zero.
            int tail = n - ellipsis;
            System.arraycopy(groups, ellipsis, groups, 8 - tail, tail);
            Arrays.fill(groups, ellipsis, 8 - tail, 0);
        } else if (ellipsis >= 0) {
            throw new Malformed("\"::\" must stand for at least one zero group");
        }
        long hi = 0;
        long lo = 0;
        for (int g = 0; g < 4; g++) {
            hi = (hi << 16) | groups[g];
            lo = (lo << 16) | groups[g + 4];
        }
        return ofV6(hi, lo);
    }

    private static String hexRun(String s, int from, int to) {
        int i = from;
        while (i < to && hexValue(s.charAt(i)) >= 0) {
            i++;
        }
        return s.substring(from, i);
    }

    private static Malformed unexpected(String s, int offset) {
        return new Malformed("unexpected " + describe(s.charAt(offset)) + " at offset " + offset);
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9'; // not Character.isDigit: that accepts Arabic-Indic and fullwidth digits
    }

    /** The value of an ASCII hex digit, or -1 (again not Character.digit, which takes any Unicode digit). */
    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static String describe(char c) {
        return c > 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private static final int QUOTE_LIMIT = 80;

    /**
     * The text in double quotes for an error message: quotes, backslashes and every character
     * outside printable ASCII escaped (so a non-breaking space or fullwidth digit is visible), and
     * cut after {@value #QUOTE_LIMIT} characters so a hostile value cannot flood a log.
     */
    static String quote(String text) {
        StringBuilder sb = new StringBuilder(Math.min(text.length(), QUOTE_LIMIT) + 8).append('"');
        int end = Math.min(text.length(), QUOTE_LIMIT);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                sb.append(c);
            } else {
                sb.append(String.format("\\u%04x", (int) c));
            }
        }
        sb.append('"');
        if (text.length() > end) {
            sb.append("... (").append(text.length()).append(" chars)");
        }
        return sb.toString();
    }
}
