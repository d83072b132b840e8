package io.ambit.policy.match;

import java.util.Arrays;
import java.util.Collection;

/**
 * A set of ports as a sorted array: a few bytes per port where a 65,536-bit set would cost 8 KiB per
 * rule (10,000 policies x 10 rules would be gigabytes).
 */
public final class PortSet {
    private final int[] ports;

    private PortSet(int[] ports) {
        this.ports = ports;
    }

    /** @param ports decimal strings, already validated (0..65535) */
    public static PortSet of(Collection<String> ports) {
        return new PortSet(
                ports.stream().mapToInt(Integer::parseInt).sorted().distinct().toArray());
    }

    /** The ports, ascending. */
    public int[] toArray() {
        return ports.clone();
    }

    public boolean contains(int port) {
        if (ports.length <= 8) {
            for (int p : ports) {
                if (p == port) {
                    return true;
                }
            }
            return false;
        }
        return Arrays.binarySearch(ports, port) >= 0;
    }
}
