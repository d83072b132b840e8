package io.ambit.ztunnel.dns;

import io.ambit.policy.match.IpAddress;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Answers A and AAAA questions from the mesh, as ztunnel's DNS proxy (ztunnel-reference.md §8): the names
 * of services, as a client in its namespace may write them, and wildcard hosts. {@link #resolve} returns
 * null for everything else, which the caller forwards upstream.
 *
 * <ul>
 *   <li>Names tried, in order: the name asked; the name with one of the client's search domains
 *       ({@code ns.svc.<domain>}, {@code svc.<domain>}, {@code <domain>}) taken off, as a resolver that
 *       appended it to a short name sends it; and each of those as a Kubernetes short form expanded:
 *       {@code svc} in the client's namespace, {@code svc.ns}, {@code svc.ns.svc}. Exact hostnames first,
 *       then the longest wildcard host that matches one of them.
 *   <li>A service of NAMESPACE visibility is seen only from its namespace; of several services of one
 *       hostname the client's namespace wins, then a canonical one, then the first.
 *   <li>A service with VIPs: those on the client's network and of the asked family (none: an empty
 *       NOERROR answer, as the name exists). Without VIPs: a Kubernetes headless service
 *       ({@code name.ns.svc.<domain>}) answers with its healthy endpoints' IPs; another VIP-less service
 *       (a DNS ServiceEntry) is left to the upstream.
 *   <li>TTL {@value #TTL} s, records shuffled, at most {@value #MAX_RECORDS}. A name reached through an
 *       alias answers with a CNAME to the hostname first, then the addresses under the hostname.
 * </ul>
 *
 * <p>Reads the state it is given (the current one, per query) and keeps only an index of the last state.
 */
final class MeshResolver {
    static final long TTL = 30;
    /** Bound on addresses per answer (a headless service may have thousands of endpoints). */
    static final int MAX_RECORDS = 64;

    static final int TYPE_A = 1;
    static final int TYPE_AAAA = 28;
    static final int TYPE_CNAME = 5;

    private volatile HostIndex index;

    /**
     * The mesh's answer to {@code name} (lower case, no trailing dot) of {@code type} for {@code client} (null:
     * an unknown client, default network, no namespace), or null when the upstream should answer.
     */
    List<Rr> resolve(MeshState state, Workload client, String name, int type, int dnsClass) {
        if ((type != TYPE_A && type != TYPE_AAAA) || dnsClass != Question.CLASS_IN || name.isEmpty()) {
            return null;
        }
        var idx = index(state);
        String namespace = client == null ? null : client.namespace();
        var candidates = candidates(idx, name, namespace);
        Service found = null;
        String matched = null;
        for (var c : candidates) {
            found = choose(idx.exact.get(c), namespace);
            if (found != null) {
                matched = c;
                break;
            }
        }
        if (found == null) {
            outer:
            for (var w : idx.wildcards) {
                for (var c : candidates) {
                    if (c.endsWith(w.suffix()) && c.length() > w.suffix().length()) {
                        found = choose(w.services(), namespace);
                        if (found != null) {
                            matched = c; // a wildcard answers under the name asked for
                            break outer;
                        }
                    }
                }
            }
        }
        if (found == null) {
            return null;
        }
        List<IpAddress> addresses = addresses(state, found, client, type);
        if (addresses == null) {
            return null;
        }
        var out = new ArrayList<Rr>(addresses.size() + 1);
        String owner = name;
        if (!matched.equals(name)) {
            out.add(new Rr(name, TYPE_CNAME, Question.CLASS_IN, TTL, DnsWire.nameBytes(matched)));
            owner = matched;
        }
        Collections.shuffle(addresses, ThreadLocalRandom.current());
        for (var ip : addresses) {
            out.add(new Rr(owner, type, Question.CLASS_IN, TTL, bytes(ip)));
        }
        return out;
    }

    private HostIndex index(MeshState state) {
        var i = index;
        if (i == null || i.state != state) {
            i = new HostIndex(state); // two queries racing on a new state may both build it: harmless
            index = i;
        }
        return i;
    }

    /** The names to look up for {@code name}, in order, without repeats. */
    static List<String> candidates(HostIndex idx, String name, String namespace) {
        var stripped = new LinkedHashSet<String>();
        stripped.add(name);
        for (var domain : idx.clusterDomains) {
            if (namespace != null) {
                stripSuffix(stripped, name, namespace + ".svc." + domain);
            }
            stripSuffix(stripped, name, "svc." + domain);
            stripSuffix(stripped, name, domain);
        }
        var out = new LinkedHashSet<String>(stripped);
        for (var s : stripped) {
            String[] labels = s.split("\\.", -1);
            for (var domain : idx.clusterDomains) {
                if (labels.length == 1 && namespace != null) {
                    out.add(s + "." + namespace + ".svc." + domain);
                } else if (labels.length == 2) {
                    out.add(s + ".svc." + domain);
                } else if (labels.length == 3 && labels[2].equals("svc")) {
                    out.add(s + "." + domain);
                }
            }
        }
        return List.copyOf(out);
    }

    private static void stripSuffix(LinkedHashSet<String> out, String name, String suffix) {
        if (name.endsWith("." + suffix) && name.length() > suffix.length() + 1) {
            out.add(name.substring(0, name.length() - suffix.length() - 1));
        }
    }

    /** The service {@code namespace} sees among those of one hostname, or null. */
    private static Service choose(List<Service> services, String namespace) {
        if (services == null) {
            return null;
        }
        Service best = null;
        int bestRank = -1;
        for (var s : services) {
            boolean own = s.namespace().equals(namespace);
            if (s.visibility() == Service.Visibility.NAMESPACE && !own) {
                continue;
            }
            int rank = own ? 2 : s.canonical() ? 1 : 0;
            if (rank > bestRank) {
                best = s;
                bestRank = rank;
            }
        }
        return best;
    }

    /** The addresses to answer with (mutable, maybe empty), or null when the upstream should answer. */
    private static List<IpAddress> addresses(MeshState state, Service s, Workload client, int type) {
        String network = client == null ? "" : Objects.requireNonNullElse(client.network(), "");
        boolean v4 = type == TYPE_A;
        var out = new ArrayList<IpAddress>();
        if (!s.vips().isEmpty()) {
            for (var vip : s.vips()) {
                add(out, vip, network, v4);
            }
            return out;
        }
        if (HostIndex.kubernetesDomain(s) == null) {
            return null; // VIP-less and not Kubernetes-headless: a DNS ServiceEntry, the upstream knows it
        }
        for (var w : state.endpoints(s)) {
            if (w.status() != Workload.Status.HEALTHY) {
                continue;
            }
            for (var ip : w.ips()) {
                add(out, ip, network, v4);
            }
        }
        return out;
    }

    private static void add(List<IpAddress> out, NetworkAddress a, String network, boolean v4) {
        if (out.size() < MAX_RECORDS && a.network().equals(network) && a.ip().isV4() == v4) {
            out.add(a.ip());
        }
    }

    static byte[] bytes(IpAddress ip) {
        if (ip.isV4()) {
            int v = ip.v4();
            return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        }
        var b = new byte[16];
        long hi = ip.hi();
        long lo = ip.lo();
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return b;
    }
}
