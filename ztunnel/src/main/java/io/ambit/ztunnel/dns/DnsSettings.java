package io.ambit.ztunnel.dns;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a DNS proxy forwards and what bounds it keeps.
 *
 * @param upstreams         nameservers for what the mesh does not answer (resolv.conf's); empty: every
 *                          forwarded question is answered SERVFAIL
 * @param upstreamTimeout   how long one upstream try may take
 * @param cacheSize         upstream answers kept (ztunnel: 4096)
 * @param maxInflight       upstream questions out at once per proxy
 * @param maxTcpConnections client TCP connections open at once per listener
 * @param tcpIdle           a client TCP connection with nothing asked for this long is closed
 */
public record DnsSettings(
        List<InetSocketAddress> upstreams,
        Duration upstreamTimeout,
        int cacheSize,
        int maxInflight,
        int maxTcpConnections,
        Duration tcpIdle) {
    /** Where the upstreams are read from unless told otherwise. */
    public static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");
    /** More nameservers than resolv.conf's classic three are ignored (glibc's MAXNS). */
    static final int MAX_UPSTREAMS = 3;

    public DnsSettings {
        upstreams = List.copyOf(upstreams);
        if (upstreamTimeout.isNegative() || upstreamTimeout.isZero()) {
            throw new IllegalArgumentException("upstreamTimeout: " + upstreamTimeout + " (expected: > 0)");
        }
        if (cacheSize < 0 || maxInflight <= 0 || maxTcpConnections <= 0) {
            throw new IllegalArgumentException("cacheSize " + cacheSize + ", maxInflight " + maxInflight
                    + ", maxTcpConnections " + maxTcpConnections + " (expected: >= 0, > 0, > 0)");
        }
    }

    /** ztunnel's bounds with these upstreams. */
    public static DnsSettings of(List<InetSocketAddress> upstreams) {
        return new DnsSettings(upstreams, Duration.ofSeconds(2), 4096, 1024, 256, Duration.ofSeconds(10));
    }

    /**
     * The nameservers of a resolv.conf file (port 53), at most {@value #MAX_UPSTREAMS}.
     *
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException naming the line of a nameserver that is not an IP address
     */
    public static List<InetSocketAddress> nameservers(Path resolvConf) throws IOException {
        var out = new ArrayList<InetSocketAddress>();
        var lines = Files.readAllLines(resolvConf, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (!line.startsWith("nameserver")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            if (parts.length < 2 || !parts[0].equals("nameserver")) {
                continue;
            }
            String ip = parts[1];
            int zone = ip.indexOf('%'); // a link-local IPv6 nameserver's interface
            String literal = zone < 0 ? ip : ip.substring(0, zone);
            if (!literal.matches("[0-9a-fA-F:.]+") || literal.isEmpty()) {
                throw new IllegalArgumentException(resolvConf + " line " + (i + 1) + ": nameserver \"" + ip
                        + "\" (expected: an IPv4 or IPv6 address)");
            }
            if (out.size() < MAX_UPSTREAMS) {
                out.add(new InetSocketAddress(InetAddress.getByName(literal), 53));
            }
        }
        return out;
    }
}
