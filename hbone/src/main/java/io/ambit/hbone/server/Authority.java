package io.ambit.hbone.server;

import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * The {@code :authority} of an HBONE CONNECT: {@code ip:port}, {@code [v6]:port}, or {@code host:port}
 * (double HBONE and hostname targets). Parsed strictly: no user info, no IPv6 zone, no octal-looking IPv4
 * octets, a port of 1–65535 in plain decimal.
 *
 * @param host the IP address in canonical text (IPv6 without brackets) or the host name as given
 * @param port 1–65535
 * @param address the parsed IP address, or {@code null} for a host name
 */
public record Authority(String host, int port, InetAddress address) {
    private static final int MAX_LENGTH = 261; // 253-byte name + ":" + 5-digit port, or [v6]:port

    public Authority {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " (expected 1-65535)");
        }
    }

    /** An authority for a socket address: {@code ip:port}, IPv6 in brackets. */
    public static Authority of(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            return parse(address.getHostString() + ":" + address.getPort());
        }
        return new Authority(NetUtil.toAddressString(ip), address.getPort(), ip);
    }

    /**
     * Parses an authority.
     *
     * @throws IllegalArgumentException saying what is wrong and what was expected
     */
    public static Authority parse(CharSequence text) {
        if (text == null || text.isEmpty()) {
            throw bad(text, "it is empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw bad(text, "it is longer than " + MAX_LENGTH + " characters");
        }
        String s = text.toString();
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw bad(s, "there is no port");
        }
        int port = port(s, s.substring(colon + 1));
        String host = s.substring(0, colon);
        if (host.startsWith("[")) {
            if (!host.endsWith("]") || host.length() < 3) {
                throw bad(s, "the IPv6 address is not closed by ']'");
            }
            String literal = host.substring(1, host.length() - 1);
            if (literal.indexOf('%') >= 0 || !NetUtil.isValidIpV6Address(literal)) {
                throw bad(s, "\"" + literal + "\" is not an IPv6 address");
            }
            InetAddress ip = Inet6Address.ofLiteral(literal);
            return new Authority(NetUtil.toAddressString(ip), port, ip);
        }
        if (host.indexOf(':') >= 0) {
            throw bad(s, "an IPv6 address must be in brackets");
        }
        if (isDottedQuad(host)) {
            if (!NetUtil.isValidIpV4Address(host) || hasLeadingZeroOctet(host)) {
                throw bad(s, "\"" + host + "\" is not an IPv4 address");
            }
            InetAddress ip = Inet4Address.ofLiteral(host);
            return new Authority(host, port, ip);
        }
        checkHostName(s, host);
        return new Authority(host, port, null);
    }

    /** Whether the host is an IP address rather than a name. */
    public boolean isIp() {
        return address != null;
    }

    /** The socket address for an IP authority. */
    public Optional<InetSocketAddress> socketAddress() {
        return address == null ? Optional.empty() : Optional.of(new InetSocketAddress(address, port));
    }

    @Override
    public String toString() {
        return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
    }

    private static int port(String s, String digits) {
        if (digits.isEmpty() || digits.length() > 5) {
            throw bad(
                    s,
                    "the port \"" + (digits.length() > 8 ? digits.substring(0, 8) + "..." : digits)
                            + "\" is not 1-65535");
        }
        int port = 0;
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c < '0' || c > '9') {
                throw bad(s, "the port \"" + digits + "\" is not a decimal number");
            }
            port = port * 10 + (c - '0');
        }
        if (port < 1 || port > 65535 || digits.charAt(0) == '0') {
            throw bad(s, "the port \"" + digits + "\" is not 1-65535");
        }
        return port;
    }

    private static boolean isDottedQuad(String host) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if ((c < '0' || c > '9') && c != '.') {
                return false;
            }
        }
        return true;
    }

    private static boolean hasLeadingZeroOctet(String host) {
        for (String octet : host.split("\\.", -1)) {
            if (octet.length() > 1 && octet.charAt(0) == '0') {
                return true;
            }
        }
        return false;
    }

    private static void checkHostName(String s, String host) {
        if (host.isEmpty() || host.length() > 253) {
            throw bad(s, "the host name is empty or longer than 253 characters");
        }
        int label = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                if (label == 0) {
                    throw bad(s, "the host name has an empty label");
                }
                label = 0;
                continue;
            }
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            if (!ok) {
                throw bad(
                        s,
                        "the host name contains "
                                + (c < 0x20 || c >= 0x7f ? "a control or non-ASCII character" : "'" + c + "'"));
            }
            if (++label > 63) {
                throw bad(s, "a host name label is longer than 63 characters");
            }
        }
    }

    private static IllegalArgumentException bad(CharSequence text, String why) {
        String shown = text == null ? "null" : text.length() > 80 ? text.subSequence(0, 80) + "..." : text.toString();
        // Both parts may quote the peer's bytes (the port digits, the host): no control character reaches a
        // log line (a tab or newline in the port was copied through; found by AuthorityFuzzTest).
        return new IllegalArgumentException(("authority \"" + shown + "\": " + why).replaceAll("\\p{Cntrl}", "?")
                + " (expected ip:port, [ipv6]:port or host:port)");
    }
}
