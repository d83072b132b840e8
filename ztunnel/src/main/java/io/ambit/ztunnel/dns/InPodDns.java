package io.ambit.ztunnel.dns;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DNS proxy of every pod in in-pod mode, from ztunnel's environment (ztunnel-reference.md §8): on unless
 * {@code DNS_CAPTURE=false}; on the pod's {@code 127.0.0.1:15053} unless {@code DNS_PROXY_ADDR} says
 * another {@code ip:port}; forwarding to the nameservers of this process's resolv.conf
 * ({@code /etc/resolv.conf}, or the file {@code AMBIT_RESOLV_CONF} names).
 *
 * @param address where each pod's proxy listens, inside the pod's network namespace
 */
public record InPodDns(InetSocketAddress address, DnsSettings settings) {
    private static final Logger log = LoggerFactory.getLogger(InPodDns.class);

    /** The default address: the pod's loopback, ztunnel's port. */
    public static final InetSocketAddress DEFAULT_ADDRESS =
            new InetSocketAddress(InetAddress.getLoopbackAddress(), DnsProxy.PORT);

    /**
     * Where a dual-stack pod's proxy listens as well: the other family's loopback at the same port, when
     * {@link #address()} is a loopback one — ip6tables' {@code REDIRECT} sends the pod's IPv6 DNS to
     * {@code [::1]}, iptables' its IPv4 DNS to {@code 127.0.0.1}, and Istio's ztunnel listens on both. Null for
     * any other address (one {@code DNS_PROXY_ADDR} names explicitly): that one only.
     */
    public InetSocketAddress otherLoopback() {
        var ip = address.getAddress();
        if (!ip.isLoopbackAddress()) {
            return null;
        }
        try {
            var other = ip instanceof Inet6Address
                    ? InetAddress.getByAddress(new byte[] {127, 0, 0, 1})
                    : InetAddress.getByAddress(LOOPBACK6);
            return new InetSocketAddress(other, address.getPort());
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // lengths are right
        }
    }

    private static final byte[] LOOPBACK6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    /**
     * Reads the settings; empty when DNS capture is off.
     *
     * @throws IllegalArgumentException naming the variable whose value is wrong and what was expected
     */
    public static Optional<InPodDns> fromEnvironment(Map<String, String> env) {
        if (!enabled(env)) {
            return Optional.empty();
        }
        var address = address(env.get("DNS_PROXY_ADDR"));
        String resolv = env.get("AMBIT_RESOLV_CONF");
        Path path = resolv == null || resolv.isBlank() ? DnsSettings.RESOLV_CONF : Path.of(resolv.strip());
        return Optional.of(new InPodDns(address, DnsSettings.of(upstreams(path, "AMBIT_RESOLV_CONF"))));
    }

    /**
     * Whether DNS capture is on: {@code DNS_CAPTURE} unset, empty or {@code true}.
     *
     * @throws IllegalArgumentException when it is something else than true or false
     */
    public static boolean enabled(Map<String, String> env) {
        String capture = env.getOrDefault("DNS_CAPTURE", "").strip().toLowerCase(Locale.ROOT);
        if (!capture.isEmpty() && !capture.equals("true") && !capture.equals("false")) {
            throw new IllegalArgumentException(
                    "DNS_CAPTURE is \"" + env.get("DNS_CAPTURE") + "\" (expected: true or false)");
        }
        return !capture.equals("false");
    }

    /**
     * The nameservers of {@code path}. A missing file leaves none (every forwarded question gets SERVFAIL,
     * said once here); one that cannot be read or names a non-address is refused.
     *
     * @throws IllegalArgumentException naming the file, and {@code variable} when it was given there
     */
    public static List<InetSocketAddress> upstreams(Path path, String variable) {
        try {
            var servers = DnsSettings.nameservers(path);
            if (servers.isEmpty()) {
                log.warn("DNS proxy: {} names no nameserver: names outside the mesh will get SERVFAIL", path);
            }
            return servers;
        } catch (NoSuchFileException e) {
            log.warn("DNS proxy: {} does not exist: names outside the mesh will get SERVFAIL", path);
            return List.of();
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    variable + ": cannot read " + path + " (" + e.getMessage() + "; expected: a resolv.conf file)");
        }
    }

    /** {@code ip:port} or {@code [v6]:port}; null or blank: the default. */
    static InetSocketAddress address(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_ADDRESS;
        }
        String t = text.strip();
        int colon = t.lastIndexOf(':');
        String host = colon < 0 ? "" : t.substring(0, colon);
        boolean bracketed = host.startsWith("[") && host.endsWith("]");
        if (bracketed) {
            host = host.substring(1, host.length() - 1);
        }
        int port = -1;
        try {
            port = colon < 0 ? -1 : Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            // reported below
        }
        if (port < 1 || port > 65535 || !host.matches("[0-9a-fA-F:.]+") || host.contains(":") != bracketed) {
            throw new IllegalArgumentException(
                    "DNS_PROXY_ADDR is \"" + text + "\" (expected: ip:port such as 127.0.0.1:15053 or [::1]:15053)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port); // a literal: no lookup
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "DNS_PROXY_ADDR is \"" + text + "\" (expected: ip:port such as 127.0.0.1:15053 or [::1]:15053)");
        }
    }
}
