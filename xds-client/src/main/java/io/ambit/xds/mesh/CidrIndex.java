package io.ambit.xds.mesh;

import io.ambit.policy.match.IpAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Services by CIDR VIP, for the longest-prefix match on one network (ztunnel-reference.md §8: the exact VIP
 * wins, then the longest CIDR). Per network and address family, one hash table per prefix length in use,
 * probed from the longest length down: a lookup costs one masked hash probe per distinct length (a handful
 * in practice, at most 33 or 129) whatever the number of services, where ztunnel scans every range.
 * Immutable once built.
 */
final class CidrIndex {
    static final CidrIndex EMPTY = new CidrIndex(Map.of());

    /** One family on one network: {@code lengths} descending, {@code tables[i]} holds the ranges of {@code lengths[i]}. */
    private record Tables(int[] lengths, Map<IpAddress, Service>[] tables) {
        Service find(IpAddress ip) {
            for (int i = 0; i < lengths.length; i++) {
                Service s = tables[i].get(masked(ip, lengths[i]));
                if (s != null) {
                    return s;
                }
            }
            return null;
        }
    }

    private record Families(Tables v4, Tables v6) {}

    private final Map<String, Families> byNetwork;

    private CidrIndex(Map<String, Families> byNetwork) {
        this.byNetwork = byNetwork;
    }

    /** Indexes each range's service; the caller has settled ranges claimed twice. */
    static CidrIndex of(Map<NetworkCidr, Service> ranges) {
        if (ranges.isEmpty()) {
            return EMPTY;
        }
        // network -> v4? -> length -> (address -> service)
        var grouped = new HashMap<String, Map<Boolean, TreeMap<Integer, Map<IpAddress, Service>>>>();
        ranges.forEach((range, service) -> grouped.computeIfAbsent(range.network(), k -> new HashMap<>())
                .computeIfAbsent(range.cidr().isV4(), k -> new TreeMap<>((a, b) -> Integer.compare(b, a)))
                .computeIfAbsent(range.prefixLength(), k -> new HashMap<>())
                .put(range.cidr().address(), service));
        var byNetwork = HashMap.<String, Families>newHashMap(grouped.size());
        grouped.forEach((network, families) ->
                byNetwork.put(network, new Families(tables(families.get(true)), tables(families.get(false)))));
        return new CidrIndex(Map.copyOf(byNetwork));
    }

    @SuppressWarnings("unchecked")
    private static Tables tables(TreeMap<Integer, Map<IpAddress, Service>> byLength) {
        if (byLength == null) {
            return null;
        }
        int[] lengths = new int[byLength.size()];
        Map<IpAddress, Service>[] tables = new Map[byLength.size()];
        int i = 0;
        for (var e : byLength.entrySet()) {
            lengths[i] = e.getKey();
            tables[i] = Map.copyOf(e.getValue());
            i++;
        }
        return new Tables(lengths, tables);
    }

    /** The service of the longest range on the address's network that holds it, or null. */
    Service find(NetworkAddress address) {
        Families f = byNetwork.get(address.network());
        if (f == null) {
            return null;
        }
        IpAddress ip = address.ip();
        Tables t = ip.isV4() ? f.v4() : f.v6();
        return t == null ? null : t.find(ip);
    }

    boolean isEmpty() {
        return byNetwork.isEmpty();
    }

    /** {@code ip} with the bits after {@code length} cleared; {@code length} fits the family. */
    static IpAddress masked(IpAddress ip, int length) {
        if (ip.isV4()) {
            int mask = length == 0 ? 0 : -1 << (32 - length);
            return IpAddress.ofV4(ip.v4() & mask);
        }
        long hiMask = length == 0 ? 0 : length >= 64 ? -1L : -1L << (64 - length);
        long loMask = length <= 64 ? 0 : length == 128 ? -1L : -1L << (128 - length);
        return IpAddress.ofV6(ip.hi() & hiMask, ip.lo() & loMask);
    }

    @Override
    public String toString() {
        return "CidrIndex" + Arrays.toString(byNetwork.keySet().toArray());
    }
}
