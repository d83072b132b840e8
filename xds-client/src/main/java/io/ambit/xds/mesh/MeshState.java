package io.ambit.xds.mesh;

import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything ztunnel knows about the mesh at one moment: workloads, services and the compiled policies,
 * indexed for the data path (workload by IP, service by VIP or hostname, endpoints of a service).
 * Immutable: a {@link MeshSource} publishes a new state whole; a connection reads one state and keeps it.
 */
public final class MeshState {
    private final List<Workload> workloads;
    private final List<Service> services;
    private final PolicySnapshot policies;
    private final String origin;
    private final Map<NetworkAddress, Workload> byIp;
    /**
     * Workloads by bare IP when some are on a named network (empty when all are on the default one); an IP
     * two networks share is left out.
     */
    private final Map<IpAddress, Workload> byBareIp;

    private final Map<String, Workload> byUid;
    private final Map<NetworkAddress, Service> byVip;
    /** Services by CIDR VIP, looked up only when no exact VIP matches. */
    private final CidrIndex byCidr;

    private final Map<NamespacedHostname, Service> byHostname;
    private final Map<NamespacedHostname, List<Workload>> endpoints;
    private final List<String> conflicts;
    /** Values of {@link MeshExtension}s (the waypoint's rate limits), by value type; empty when none. */
    private final Map<Class<?>, Object> extensions;

    private MeshState(
            List<Workload> workloads, List<Service> services, PolicySnapshot policies, String origin, boolean lenient) {
        this.policies = policies;
        this.origin = origin;
        var conflicts = new ArrayList<String>();
        var hosts = new LinkedHashMap<NamespacedHostname, Service>();
        var vips = HashMap.<NetworkAddress, Service>newHashMap(services.size());
        var cidrs = new HashMap<NetworkCidr, Service>();
        for (var s : services) {
            var before = hosts.put(s.key(), s);
            if (before != null) {
                conflict(lenient, conflicts, "service " + s.key() + " is defined twice");
            }
            for (var vip : s.vips()) {
                var owner = vips.put(vip, s);
                if (owner != null && owner != before) {
                    conflict(lenient, conflicts, "VIP " + vip + " belongs to two services");
                }
            }
            for (var range : s.cidrVips()) {
                var owner = cidrs.put(range, s);
                if (owner != null && owner != before) {
                    conflict(lenient, conflicts, "CIDR VIP " + range + " belongs to two services");
                }
            }
        }
        var ips = HashMap.<NetworkAddress, Workload>newHashMap(workloads.size());
        var uids = HashMap.<String, Workload>newHashMap(workloads.size());
        var members = new HashMap<NamespacedHostname, List<Workload>>();
        for (var w : workloads) {
            if (uids.put(w.uid(), w) != null) {
                conflict(lenient, conflicts, "workload uid " + w.uid() + " is defined twice");
            }
            // a host-network workload shares its node's IP with others: never found by IP (as ztunnel)
            if (w.networkMode() != Workload.NetworkMode.HOST_NETWORK) {
                for (var ip : w.ips()) {
                    if (ips.put(ip, w) != null || vips.containsKey(ip)) {
                        conflict(lenient, conflicts, "IP " + ip + " belongs to two workloads or services");
                    }
                }
            }
            for (var svc : w.services().keySet()) {
                if (!hosts.containsKey(svc)) {
                    if (!lenient) {
                        throw new IllegalArgumentException("workload " + w.uid() + " names unknown service " + svc);
                    }
                    continue; // xDS: the service may arrive later; until then it has no endpoints
                }
                members.computeIfAbsent(svc, k -> new ArrayList<>()).add(w);
            }
        }
        if (lenient && !conflicts.isEmpty()) {
            // a later entry took the uid or hostname: keep only what the indexes point at, in order
            this.workloads =
                    workloads.stream().filter(w -> uids.get(w.uid()) == w).toList();
            this.services =
                    services.stream().filter(s -> hosts.get(s.key()) == s).toList();
            members.replaceAll(
                    (k, v) -> v.stream().filter(w -> uids.get(w.uid()) == w).toList());
            ips.values().removeIf(w -> uids.get(w.uid()) != w);
            vips.values().removeIf(s -> hosts.get(s.key()) != s);
            cidrs.values().removeIf(s -> hosts.get(s.key()) != s);
        } else {
            this.workloads = List.copyOf(workloads);
            this.services = List.copyOf(services);
            members.replaceAll((k, v) -> Collections.unmodifiableList(v));
        }
        // the maps are private to this state and never change after this point: wrapping is enough, and
        // saves copying the indexes of 10,000 workloads again on every xDS update
        this.byIp = Collections.unmodifiableMap(ips);
        this.byBareIp = bareIndex(ips);
        this.byUid = Collections.unmodifiableMap(uids);
        this.byVip = Collections.unmodifiableMap(vips);
        this.byCidr = CidrIndex.of(cidrs);
        this.byHostname = Collections.unmodifiableMap(hosts);
        this.endpoints = Collections.unmodifiableMap(members);
        this.conflicts = List.copyOf(conflicts);
        this.extensions = Map.of();
    }

    /** {@code base} with other extension values: the indexes are shared, never rebuilt. */
    private MeshState(MeshState base, Map<Class<?>, Object> extensions) {
        this.workloads = base.workloads;
        this.services = base.services;
        this.policies = base.policies;
        this.origin = base.origin;
        this.byIp = base.byIp;
        this.byBareIp = base.byBareIp;
        this.byUid = base.byUid;
        this.byVip = base.byVip;
        this.byCidr = base.byCidr;
        this.byHostname = base.byHostname;
        this.endpoints = base.endpoints;
        this.conflicts = base.conflicts;
        this.extensions = Map.copyOf(extensions);
    }

    private static Map<IpAddress, Workload> bareIndex(Map<NetworkAddress, Workload> ips) {
        boolean named = false;
        for (var a : ips.keySet()) {
            if (!a.network().isEmpty()) {
                named = true;
                break;
            }
        }
        if (!named) {
            return Map.of();
        }
        var bare = HashMap.<IpAddress, Workload>newHashMap(ips.size());
        var shared = new HashSet<IpAddress>();
        ips.forEach((a, w) -> {
            if (!shared.contains(a.ip()) && bare.putIfAbsent(a.ip(), w) != null) {
                bare.remove(a.ip()); // two networks share it: no guess
                shared.add(a.ip());
            }
        });
        return Collections.unmodifiableMap(bare);
    }

    private static void conflict(boolean lenient, List<String> conflicts, String message) {
        if (!lenient) {
            throw new IllegalArgumentException(message);
        }
        conflicts.add(message);
    }

    /**
     * Indexes workloads and services with their compiled policies.
     *
     * @param origin where the state came from, for logs and the admin page (a file name, an xDS server)
     * @throws IllegalArgumentException when the parts contradict each other (an IP or VIP used twice, a
     *     workload naming an unknown service): sources validate first and report such errors precisely;
     *     this is the backstop
     */
    public static MeshState of(
            List<Workload> workloads, List<Service> services, PolicySnapshot policies, String origin) {
        return new MeshState(workloads, services, policies, origin, false);
    }

    /**
     * Indexes workloads and services as ztunnel indexes what istiod sends, where contradictions are
     * normal for a moment (a pod's IP reused before the old pod's removal arrives, a workload naming a
     * service that comes in the next response): a later entry in the lists takes a uid, IP or VIP from an
     * earlier one, and a reference to a service not (yet) known is kept on the workload but gives no
     * endpoint until the service exists. Never throws for such contradictions; {@link #conflicts()} lists
     * them.
     */
    public static MeshState resolving(
            List<Workload> workloads, List<Service> services, PolicySnapshot policies, String origin) {
        return new MeshState(workloads, services, policies, origin, true);
    }

    /** No workloads, no services, no policies. */
    public static MeshState empty(MeshConfig mesh) {
        return new MeshState(List.of(), List.of(), PolicySnapshot.empty(mesh), "empty", false);
    }

    /** The workload with this IP on the default network. */
    public Optional<Workload> workload(IpAddress ip) {
        return workload(NetworkAddress.of(ip));
    }

    public Optional<Workload> workload(NetworkAddress address) {
        return Optional.ofNullable(byIp.get(address));
    }

    /**
     * The workload with this IP when the network is not known (a proxy finding its own workload by the
     * address it listens on): the one on the default network, else the only one on any network; none when
     * two named networks share the IP (no guess: the caller then refuses).
     */
    public Optional<Workload> workloadOnAnyNetwork(IpAddress ip) {
        Workload w = byIp.get(NetworkAddress.of(ip));
        if (w == null) {
            w = byBareIp.get(ip);
        }
        return Optional.ofNullable(w);
    }

    public Optional<Workload> workloadByUid(String uid) {
        return Optional.ofNullable(byUid.get(uid));
    }

    /** The service with this VIP on the default network. */
    public Optional<Service> serviceByVip(IpAddress vip) {
        return serviceByVip(NetworkAddress.of(vip));
    }

    /**
     * The service at this address: the one with it as an exact VIP, else the one of the longest CIDR VIP on
     * the same network holding it (ztunnel-reference.md §8).
     */
    public Optional<Service> serviceByVip(NetworkAddress vip) {
        Service s = byVip.get(vip);
        return Optional.ofNullable(s != null ? s : byCidr.find(vip));
    }

    /** The service with this address as an exact VIP only. */
    public Optional<Service> serviceByExactVip(NetworkAddress vip) {
        return Optional.ofNullable(byVip.get(vip));
    }

    /** The service of the longest CIDR VIP on the address's network holding it, ignoring exact VIPs. */
    public Optional<Service> serviceByCidrVip(NetworkAddress address) {
        return Optional.ofNullable(byCidr.find(address));
    }

    public Optional<Service> service(NamespacedHostname key) {
        return Optional.ofNullable(byHostname.get(key));
    }

    /** The services a workload backs, in the order of its {@code services} map. */
    public List<Service> servicesOf(Workload workload) {
        var out = new ArrayList<Service>(workload.services().size());
        for (var key : workload.services().keySet()) {
            var s = byHostname.get(key);
            if (s != null) {
                out.add(s);
            }
        }
        return List.copyOf(out);
    }

    /** The workloads backing a service, healthy or not, in file order. */
    public List<Workload> endpoints(Service service) {
        return endpoints.getOrDefault(service.key(), List.of());
    }

    public List<Workload> workloads() {
        return workloads;
    }

    public List<Service> services() {
        return services;
    }

    /** The compiled AuthorizationPolicy, PeerAuthentication and RequestAuthentication objects. */
    public PolicySnapshot policies() {
        return policies;
    }

    public MeshConfig mesh() {
        return policies.mesh();
    }

    /**
     * This state carrying {@code values} (by their type, as {@link MeshExtension#type()}), replacing any it
     * carried: how a source attaches what its {@link MeshExtension}s read.
     *
     * @throws IllegalArgumentException when a value is not an instance of its key
     */
    public MeshState withExtensions(Map<Class<?>, ?> values) {
        var merged = new HashMap<Class<?>, Object>(extensions);
        for (var e : values.entrySet()) {
            if (!e.getKey().isInstance(e.getValue())) {
                throw new IllegalArgumentException("extension value " + e.getValue() + " is not a " + e.getKey());
            }
            merged.put(e.getKey(), e.getValue());
        }
        return new MeshState(this, merged);
    }

    /**
     * The value a {@link MeshExtension} of this type read from the mesh's source, or empty when the source
     * has none (no such documents in a file, an xDS source).
     */
    public <T> Optional<T> extension(Class<T> type) {
        return Optional.ofNullable(type.cast(extensions.get(type)));
    }

    /** What {@link #resolving} had to settle (an IP or VIP taken by a later entry); empty otherwise. */
    public List<String> conflicts() {
        return conflicts;
    }

    /** Where this state came from: a file name, an xDS server. */
    public String origin() {
        return origin;
    }

    @Override
    public String toString() {
        return "MeshState[" + origin + ": " + workloads.size() + " workloads, " + services.size() + " services, "
                + policies.policies().authorizationPolicies().size() + " authorization policies]";
    }
}
