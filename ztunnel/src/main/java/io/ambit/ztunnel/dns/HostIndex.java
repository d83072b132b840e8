package io.ambit.ztunnel.dns;

import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The services of one mesh state by the names DNS asks for: exact hostnames (lower case), wildcard hosts
 * ({@code *.example.com}, longest suffix first) and the cluster domains the Kubernetes hostnames use
 * ({@code cluster.local} from {@code httpbin.default.svc.cluster.local}). Built once per state and shared
 * by every query against that state ({@link MeshResolver}); it holds the state's own {@link Service} objects.
 */
final class HostIndex {
    /** A wildcard host: {@code *.example.com} has suffix {@code .example.com}. */
    record Wildcard(String suffix, List<Service> services) {}

    final MeshState state;
    final Map<String, List<Service>> exact;
    final List<Wildcard> wildcards;
    final Set<String> clusterDomains;

    HostIndex(MeshState state) {
        this.state = state;
        var exact = new HashMap<String, List<Service>>();
        var wild = new HashMap<String, List<Service>>();
        var domains = new LinkedHashSet<String>();
        for (var s : state.services()) {
            String host = s.hostname().toLowerCase(Locale.ROOT);
            if (host.startsWith("*.")) {
                wild.computeIfAbsent(host.substring(1), k -> new ArrayList<>()).add(s);
            } else {
                exact.computeIfAbsent(host, k -> new ArrayList<>()).add(s);
            }
            String domain = kubernetesDomain(s);
            if (domain != null) {
                domains.add(domain);
            }
        }
        this.exact = Map.copyOf(exact);
        var wildcards = new ArrayList<Wildcard>();
        wild.forEach((suffix, list) -> wildcards.add(new Wildcard(suffix, List.copyOf(list))));
        wildcards.sort(
                Comparator.comparingInt((Wildcard w) -> w.suffix().length()).reversed());
        this.wildcards = List.copyOf(wildcards);
        // with no Kubernetes hostname in the mesh (yet), short names still expand under the usual domain
        this.clusterDomains = domains.isEmpty() ? Set.of("cluster.local") : Set.copyOf(domains);
    }

    /**
     * The cluster domain of a Kubernetes service hostname {@code name.namespace.svc.<domain>}, or null when
     * the hostname is not of that form (a ServiceEntry host such as {@code api.example.com}).
     */
    static String kubernetesDomain(Service s) {
        String host = s.hostname().toLowerCase(Locale.ROOT);
        String prefix = (s.name() + "." + s.namespace() + ".svc.").toLowerCase(Locale.ROOT);
        if (host.startsWith(prefix) && host.length() > prefix.length()) {
            return host.substring(prefix.length());
        }
        return null;
    }
}
