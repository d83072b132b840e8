package io.ambit.bench.waypoint;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** {@code --name value} arguments, checked against the names a tool knows; errors name the argument. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    static Args parse(String[] args, int from, Set<String> known) {
        Args a = new Args();
        for (int i = from; i < args.length; i += 2) {
            if (!known.contains(args[i])) {
                throw new IllegalArgumentException("unknown argument " + args[i] + " (expected one of " + known + ")");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + ": missing value");
            }
            a.values.put(args[i], args[i + 1]);
        }
        return a;
    }

    String text(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException(name + ": missing");
        }
        return v;
    }

    String text(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    /** {@code ip:port} (a literal IP: no lookup). */
    InetSocketAddress address(String name) {
        String v = text(name);
        int colon = v.lastIndexOf(':');
        try {
            return new InetSocketAddress(
                    InetAddress.getByName(v.substring(0, colon)), Integer.parseInt(v.substring(colon + 1)));
        } catch (UnknownHostException | RuntimeException e) {
            throw new IllegalArgumentException(name + " " + v + " (expected ip:port)");
        }
    }
}
