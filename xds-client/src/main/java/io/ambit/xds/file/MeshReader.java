package io.ambit.xds.file;

import io.ambit.hbone.identity.SpiffeId;
import io.ambit.policy.load.Fields;
import io.ambit.policy.load.Problems;
import io.ambit.policy.load.YamlNode;
import io.ambit.policy.match.IpAddress;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.mesh.ApplicationTunnel;
import io.ambit.xds.mesh.GatewayAddress;
import io.ambit.xds.mesh.LoadBalancing;
import io.ambit.xds.mesh.Locality;
import io.ambit.xds.mesh.NamespacedHostname;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.NetworkCidr;
import io.ambit.xds.mesh.Port;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the mesh document's {@code workloads:} and {@code services:} with ztunnel's local-file field
 * names, checking what ztunnel's serde checks (types, unknown fields) and what would contradict the
 * mesh (an IP or VIP used twice, a reference to an undeclared service, a port out of range).
 */
final class MeshReader {
    private static final Set<String> TOP = Set.of("mesh", "workloads", "services", "policies");
    private static final Set<String> WORKLOAD = Set.of(
            "uid",
            "name",
            "namespace",
            "workloadIps",
            "serviceAccount",
            "trustDomain",
            "node",
            "network",
            "labels",
            "canonicalName",
            "canonicalRevision",
            "protocol",
            "waypoint",
            "services",
            "status",
            "capacity",
            "hostname",
            "workloadName",
            "workloadType",
            "clusterId",
            "locality",
            "networkGateway",
            "applicationTunnel",
            "nativeTunnel",
            "networkMode");
    private static final Set<String> SERVICE = Set.of(
            "name",
            "namespace",
            "hostname",
            "vips",
            "ports",
            "subjectAltNames",
            "waypoint",
            "loadBalancer",
            "ipFamilies",
            "canonical",
            "visibility");
    private static final Set<String> LOCALITY = Set.of("region", "zone", "subzone");
    private static final Set<String> APP_TUNNEL = Set.of("protocol", "port");
    private static final Set<String> GATEWAY = Set.of("destination", "hboneMtlsPort");
    private static final Set<String> DESTINATION = Set.of("address", "hostname");
    private static final Set<String> NAMESPACED = Set.of("namespace", "hostname");
    private static final Set<String> BALANCER = Set.of("routingPreferences", "mode", "healthPolicy");

    private static final Map<String, Workload.Protocol> PROTOCOLS =
            ordered("HBONE", Workload.Protocol.HBONE, "TCP", Workload.Protocol.TCP);
    private static final Map<String, Workload.Status> STATUSES =
            ordered("Healthy", Workload.Status.HEALTHY, "Unhealthy", Workload.Status.UNHEALTHY);
    private static final Map<String, LoadBalancing.Mode> MODES = ordered(
            "Standard", LoadBalancing.Mode.STANDARD,
            "Strict", LoadBalancing.Mode.STRICT,
            "Failover", LoadBalancing.Mode.FAILOVER,
            "Passthrough", LoadBalancing.Mode.PASSTHROUGH);
    private static final Map<String, LoadBalancing.HealthPolicy> HEALTH = ordered(
            "OnlyHealthy", LoadBalancing.HealthPolicy.ONLY_HEALTHY, "AllowAll", LoadBalancing.HealthPolicy.ALLOW_ALL);
    private static final Map<String, Workload.WorkloadType> WORKLOAD_TYPES = ordered(
            "Deployment", Workload.WorkloadType.DEPLOYMENT,
            "CronJob", Workload.WorkloadType.CRONJOB,
            "Pod", Workload.WorkloadType.POD,
            "Job", Workload.WorkloadType.JOB);
    private static final Map<String, Workload.NetworkMode> NETWORK_MODES =
            ordered("Standard", Workload.NetworkMode.STANDARD, "HostNetwork", Workload.NetworkMode.HOST_NETWORK);
    private static final Map<String, ApplicationTunnel.Protocol> TUNNEL_PROTOCOLS =
            ordered("None", ApplicationTunnel.Protocol.NONE, "Proxy", ApplicationTunnel.Protocol.PROXY);
    private static final Map<String, Service.IpFamilies> IP_FAMILIES = ordered(
            "Automatic", Service.IpFamilies.AUTOMATIC,
            "IPv4Only", Service.IpFamilies.IPV4_ONLY,
            "IPv6Only", Service.IpFamilies.IPV6_ONLY,
            "Dual", Service.IpFamilies.DUAL);
    private static final Map<String, Service.Visibility> VISIBILITIES =
            ordered("Public", Service.Visibility.PUBLIC, "Namespace", Service.Visibility.NAMESPACE);
    private static final Map<String, LoadBalancing.Scope> SCOPES = ordered(
            "Region", LoadBalancing.Scope.REGION,
            "Zone", LoadBalancing.Scope.ZONE,
            "Subzone", LoadBalancing.Scope.SUBZONE,
            "Node", LoadBalancing.Scope.NODE,
            "Cluster", LoadBalancing.Scope.CLUSTER,
            "Network", LoadBalancing.Scope.NETWORK);

    record Result(List<Workload> workloads, List<Service> services) {}

    private final Problems p;
    private final MeshConfig mesh;
    /** Who holds each address (workload IP or service VIP), with where, for duplicate messages. */
    private final Map<NetworkAddress, String> owners = new HashMap<>();
    /** Who holds each CIDR VIP, with where. */
    private final Map<NetworkCidr, String> rangeOwners = new HashMap<>();

    private final Map<NamespacedHostname, Service> services = new LinkedHashMap<>();
    /** Service references found before every service was read: checked at the end. */
    private final List<Map.Entry<YamlNode, NamespacedHostname>> references = new ArrayList<>();

    private MeshReader(MeshConfig mesh, Problems p) {
        this.mesh = mesh;
        this.p = p;
    }

    static Result read(YamlNode doc, MeshConfig mesh, Problems p) {
        return new MeshReader(mesh, p).read(doc);
    }

    private Result read(YamlNode doc) {
        var top = Fields.map(doc, p, TOP);
        if (top.containsKey("policies")) {
            p.at(
                    top.get("policies"),
                    "is ztunnel's internal policy format (expected: AuthorizationPolicy documents after this one,"
                            + " separated by ---)");
        }
        var serviceNodes = Fields.listOrNull(top.get("services"), p);
        if (serviceNodes != null) {
            serviceNodes.forEach(this::service);
        }
        var workloads = new ArrayList<Workload>();
        var uids = new HashMap<String, Integer>();
        var workloadNodes = Fields.listOrNull(top.get("workloads"), p);
        if (workloadNodes != null) {
            for (var n : workloadNodes) {
                var w = workload(n, uids);
                if (w != null) {
                    workloads.add(w);
                }
            }
        }
        p.object(null);
        for (var ref : references) {
            if (!services.containsKey(ref.getValue())) {
                p.at(
                        ref.getKey(),
                        "names unknown service " + ref.getValue() + " (expected one of: "
                                + (services.isEmpty()
                                        ? "none declared"
                                        : String.join(
                                                ", ",
                                                services.keySet().stream()
                                                        .map(Object::toString)
                                                        .toList()))
                                + ")");
            }
        }
        return new Result(workloads, List.copyOf(services.values()));
    }

    // ---- services

    private void service(YamlNode n) {
        if (!named(n, "Service", "hostname")) {
            return;
        }
        int before = p.errors().size();
        var f = Fields.map(n, p, SERVICE);
        String name = Fields.required(n, f, "name", p);
        String ns = Fields.required(n, f, "namespace", p);
        String host = Fields.required(n, f, "hostname", p);
        var vips = new ArrayList<NetworkAddress>();
        var cidrVips = new ArrayList<NetworkCidr>();
        var vipNodes = Fields.listOrNull(f.get("vips"), p);
        if (vipNodes != null) {
            for (var v : vipNodes) {
                var range = range(v);
                if (range == null) {
                    var a = address(v);
                    if (a != null && claim(a, v, "Service " + ns + "/" + host)) {
                        vips.add(a);
                    }
                } else if (range.isPresent()) {
                    var r = range.get();
                    if (r.isSingleAddress()) {
                        if (claim(r.address(), v, "Service " + ns + "/" + host)) {
                            vips.add(r.address());
                        }
                    } else if (claimRange(r, v, "Service " + ns + "/" + host)) {
                        cidrVips.add(r);
                    }
                }
            }
        }
        var ports = ports(f.get("ports"));
        var sans = new ArrayList<String>();
        var sanNodes = Fields.listOrNull(f.get("subjectAltNames"), p);
        if (sanNodes != null) {
            for (var s : sanNodes) {
                String text = Fields.string(s, p);
                if (text == null) {
                    continue;
                }
                try {
                    SpiffeId.parse(text);
                    sans.add(text);
                } catch (IllegalArgumentException e) {
                    p.at(s, e.getMessage());
                }
            }
        }
        var waypoint = gateway(f.get("waypoint"));
        var lb = loadBalancing(f.get("loadBalancer"));
        var families = choice(f.get("ipFamilies"), IP_FAMILIES, Service.IpFamilies.AUTOMATIC);
        boolean canonical = f.containsKey("canonical") && Fields.bool(f.get("canonical"), p);
        var visibility = choice(f.get("visibility"), VISIBILITIES, Service.Visibility.PUBLIC);
        if (p.errors().size() > before
                || name == null
                || ns == null
                || host == null
                || name.isEmpty()
                || ns.isEmpty()
                || host.isEmpty()) {
            return;
        }
        var key = new NamespacedHostname(ns, host);
        if (services.containsKey(key)) {
            p.at(n, "is defined twice (expected: one service per namespace and hostname)");
            return;
        }
        services.put(
                key,
                Service.builder(name, ns, host)
                        .vips(vips)
                        .cidrVips(cidrVips)
                        .ports(ports)
                        .subjectAltNames(sans)
                        .waypoint(waypoint)
                        .loadBalancing(lb)
                        .ipFamilies(families)
                        .canonical(canonical)
                        .visibility(visibility)
                        .build());
    }

    private LoadBalancing loadBalancing(YamlNode n) {
        if (n == null || n.isNull()) {
            return LoadBalancing.DEFAULT;
        }
        var f = Fields.map(n, p, BALANCER);
        var scopes = new ArrayList<LoadBalancing.Scope>();
        var scopeNodes = Fields.listOrNull(f.get("routingPreferences"), p);
        if (scopeNodes != null) {
            for (var s : scopeNodes) {
                var scope = choice(s, SCOPES, null);
                if (scope != null) {
                    scopes.add(scope);
                }
            }
        }
        return new LoadBalancing(
                scopes,
                choice(f.get("mode"), MODES, LoadBalancing.Mode.STANDARD),
                choice(f.get("healthPolicy"), HEALTH, LoadBalancing.HealthPolicy.ONLY_HEALTHY));
    }

    // ---- workloads

    private Workload workload(YamlNode n, Map<String, Integer> uids) {
        if (!named(n, "Workload", "name")) {
            return null;
        }
        int before = p.errors().size();
        var f = Fields.map(n, p, WORKLOAD);
        String name = Fields.required(n, f, "name", p);
        String ns = Fields.required(n, f, "namespace", p);
        String uid = Fields.string(f.get("uid"), p);
        if (uid == null || uid.isEmpty()) {
            uid = "Kubernetes//Pod/" + ns + "/" + name; // what istiod would send for a pod
        }
        // ztunnel treats an empty trust domain as cluster.local; here there is no istiod to fill it in,
        // so the mesh's own trust domain is the useful default.
        String td = orDefault(Fields.string(f.get("trustDomain"), p), mesh.trustDomain());
        String sa = orDefault(Fields.string(f.get("serviceAccount"), p), "default");
        String network = orDefault(Fields.string(f.get("network"), p), "");
        String node = orDefault(Fields.string(f.get("node"), p), "");
        var labels = Fields.stringMap(f.get("labels"), p);
        // ztunnel's serde default is TCP; a local file describes a mesh, so captured (HBONE) is the default.
        var protocol = choice(f.get("protocol"), PROTOCOLS, Workload.Protocol.HBONE);
        var status = choice(f.get("status"), STATUSES, Workload.Status.HEALTHY);
        int capacity =
                f.containsKey("capacity") ? integer(f.get("capacity"), 0, Integer.MAX_VALUE, "a weight >= 0") : 1;
        var waypoint = gateway(f.get("waypoint"));
        var networkGateway = gateway(f.get("networkGateway"));
        String hostname = orDefault(Fields.string(f.get("hostname"), p), "");
        String workloadName = orDefault(Fields.string(f.get("workloadName"), p), name);
        // As istiod derives them for a pod (labels.CanonicalService): the first of the canonical-name,
        // app.kubernetes.io/name and app labels, else the workload's name; the revision likewise, else latest.
        String canonicalName = orDefault(
                Fields.string(f.get("canonicalName"), p), firstLabel(labels, CANONICAL_NAME_LABELS, workloadName));
        String canonicalRevision = orDefault(
                Fields.string(f.get("canonicalRevision"), p), firstLabel(labels, CANONICAL_REVISION_LABELS, "latest"));
        var workloadType = choice(f.get("workloadType"), WORKLOAD_TYPES, Workload.WorkloadType.POD);
        String clusterId = orDefault(Fields.string(f.get("clusterId"), p), "");
        var locality = locality(f.get("locality"));
        var appTunnel = applicationTunnel(f.get("applicationTunnel"));
        boolean nativeTunnel = f.containsKey("nativeTunnel") && Fields.bool(f.get("nativeTunnel"), p);
        var networkMode = choice(f.get("networkMode"), NETWORK_MODES, Workload.NetworkMode.STANDARD);

        String who = "Workload " + ns + "/" + name;
        var ips = new ArrayList<NetworkAddress>();
        var ipNodes = Fields.listOrNull(f.get("workloadIps"), p);
        if (ipNodes != null) {
            for (var ipNode : ipNodes) {
                String text = Fields.string(ipNode, p);
                if (text == null) {
                    continue;
                }
                var ip = IpAddress.tryParse(text);
                if (ip.isEmpty()) {
                    p.at(ipNode, "is \"" + text + "\" (expected: an IPv4 or IPv6 address)");
                } else {
                    var a = new NetworkAddress(network, ip.get());
                    // host-network workloads share their node's IP: no claim, as ztunnel never looks them up by IP
                    if (networkMode == Workload.NetworkMode.HOST_NETWORK || claim(a, ipNode, who)) {
                        ips.add(a);
                    }
                }
            }
        }
        var memberships = new LinkedHashMap<NamespacedHostname, List<Port>>();
        for (var e : Fields.map(f.get("services"), p, null).entrySet()) {
            try {
                var key = NamespacedHostname.parse(e.getKey());
                references.add(Map.entry(e.getValue(), key));
                memberships.put(key, ports(e.getValue()));
            } catch (IllegalArgumentException ex) {
                p.at(e.getValue(), ex.getMessage());
            }
        }
        if (p.errors().size() > before || name == null || ns == null || name.isEmpty() || ns.isEmpty()) {
            return null;
        }
        try {
            new SpiffeId(td, ns, sa);
        } catch (IllegalArgumentException e) {
            p.at(n, e.getMessage());
            return null;
        }
        Integer first = uids.putIfAbsent(uid, n.line());
        if (first != null) {
            p.at(n, ".uid", "is \"" + uid + "\", already used at line " + first + " (expected: a unique uid)");
            return null;
        }
        return Workload.builder(uid, name, ns)
                .ips(ips)
                .serviceAccount(sa)
                .trustDomain(td)
                .node(node)
                .network(network)
                .labels(labels)
                .canonicalName(canonicalName)
                .canonicalRevision(canonicalRevision)
                .protocol(protocol)
                .waypoint(waypoint)
                .services(memberships)
                .status(status)
                .capacity(capacity)
                .hostname(hostname)
                .workloadName(workloadName)
                .workloadType(workloadType)
                .clusterId(clusterId)
                .locality(locality)
                .networkGateway(networkGateway)
                .applicationTunnel(appTunnel)
                .nativeTunnel(nativeTunnel)
                .networkMode(networkMode)
                .build();
    }

    private Locality locality(YamlNode n) {
        if (n == null || n.isNull()) {
            return Locality.NONE;
        }
        var f = Fields.map(n, p, LOCALITY);
        return new Locality(
                orDefault(Fields.string(f.get("region"), p), ""),
                orDefault(Fields.string(f.get("zone"), p), ""),
                orDefault(Fields.string(f.get("subzone"), p), ""));
    }

    private ApplicationTunnel applicationTunnel(YamlNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        var f = Fields.map(n, p, APP_TUNNEL);
        var protocol = choice(f.get("protocol"), TUNNEL_PROTOCOLS, ApplicationTunnel.Protocol.NONE);
        int port =
                f.containsKey("port") ? integer(f.get("port"), 0, 65535, "a port 0-65535 (0: the original port)") : 0;
        return port < 0 ? null : new ApplicationTunnel(protocol, port);
    }

    // ---- shared pieces

    /** Names the object for later errors; false (with an error) when the node is not a map. */
    private boolean named(YamlNode n, String kind, String nameKey) {
        p.object(null);
        if (!n.isMap()) {
            p.at(n, "is " + n.kindName() + " (expected: a map)");
            return false;
        }
        var e = n.entries();
        var ns = e.get("namespace");
        var name = e.get(nameKey);
        if (ns != null && ns.isScalar() && name != null && name.isScalar()) {
            p.object(kind + " " + ns.text() + "/" + name.text());
        }
        return true;
    }

    /** Records that {@code owner} holds {@code a}; false (with an error) when someone else already does. */
    private boolean claim(NetworkAddress a, YamlNode at, String owner) {
        String first = owners.putIfAbsent(a, owner + " at line " + at.line());
        if (first != null) {
            p.at(
                    at,
                    "address " + a + " is already used by " + first
                            + " (expected: each workload IP and VIP once per network)");
            return false;
        }
        return true;
    }

    /** Records that {@code owner} holds the range {@code r}; false (with an error) when another does. */
    private boolean claimRange(NetworkCidr r, YamlNode at, String owner) {
        String first = rangeOwners.putIfAbsent(r, owner + " at line " + at.line());
        if (first != null) {
            p.at(at, "CIDR VIP " + r + " is already used by " + first + " (expected: each range once per network)");
            return false;
        }
        return true;
    }

    /**
     * A VIP written as a range ({@code 10.96.0.0/16}, {@code net1/10.96.0.0/16}): present when it is one,
     * empty after reporting a range with a bad length or host bits, null when the text is no range (an
     * exact {@code network/ip}, or not text at all: {@link #address} reports it).
     */
    private Optional<NetworkCidr> range(YamlNode n) {
        if (!n.isScalar()) {
            return null;
        }
        try {
            var r = NetworkCidr.parseIfCidr(n.text());
            return r.isPresent() ? r : null;
        } catch (IllegalArgumentException e) {
            p.at(n, e.getMessage());
            return Optional.empty();
        }
    }

    private NetworkAddress address(YamlNode n) {
        String text = Fields.string(n, p);
        if (text == null) {
            if (n.isNull()) {
                p.at(n, "is null (expected: network/ip such as /127.10.0.1)");
            }
            return null;
        }
        try {
            return NetworkAddress.parse(text);
        } catch (IllegalArgumentException e) {
            p.at(n, e.getMessage());
            return null;
        }
    }

    /** {@code {servicePort: targetPort}}; both 1-65535. */
    private List<Port> ports(YamlNode n) {
        var out = new ArrayList<Port>();
        var seen = new HashMap<Integer, Boolean>();
        for (var e : Fields.map(n, p, null).entrySet()) {
            int service = parsePort(e.getKey());
            if (service < 0) {
                p.at(e.getValue(), "has service port \"" + e.getKey() + "\" (expected: a port 1-65535)");
                continue;
            }
            int target = integer(e.getValue(), 1, 65535, "a port 1-65535");
            if (target < 0) {
                continue;
            }
            if (seen.put(service, true) != null) {
                p.at(e.getValue(), "maps service port " + service + " twice (expected: each port once)");
                continue;
            }
            out.add(new Port(service, target));
        }
        return out;
    }

    private GatewayAddress gateway(YamlNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        var f = Fields.map(n, p, GATEWAY);
        int port = f.containsKey("hboneMtlsPort")
                ? integer(f.get("hboneMtlsPort"), 1, 65535, "a port 1-65535")
                : GatewayAddress.DEFAULT_HBONE_PORT;
        var dest = f.get("destination");
        if (dest == null || dest.isNull()) {
            p.at(n, ".destination", "is missing (expected: {address: /ip} or {hostname: {namespace, hostname}})");
            return null;
        }
        var d = Fields.map(dest, p, DESTINATION);
        if (d.size() != 1) {
            if (dest.isMap()) {
                p.at(dest, "has " + d.size() + " entries (expected: exactly one of address or hostname)");
            }
            return null;
        }
        if (port < 0) {
            return null;
        }
        if (d.containsKey("address")) {
            var a = address(d.get("address"));
            return a == null ? null : new GatewayAddress(a, null, port);
        }
        var h = d.get("hostname");
        var hf = Fields.map(h, p, NAMESPACED);
        String ns = Fields.required(h, hf, "namespace", p);
        String host = Fields.required(h, hf, "hostname", p);
        if (ns == null || host == null || ns.isEmpty() || host.isEmpty()) {
            return null;
        }
        var key = new NamespacedHostname(ns, host);
        references.add(Map.entry(h, key));
        return new GatewayAddress(null, key, port);
    }

    private <E> E choice(YamlNode n, Map<String, E> values, E absent) {
        String s = Fields.string(n, p);
        if (s == null) {
            return absent;
        }
        var v = values.get(s);
        if (v == null) {
            p.at(n, "is \"" + s + "\" (expected one of: " + String.join(", ", values.keySet()) + ")");
            return absent;
        }
        return v;
    }

    /** An integer in range, or -1 with an error. */
    private int integer(YamlNode n, int min, int max, String expected) {
        String s = Fields.string(n, p);
        if (s == null) {
            if (n != null && n.isNull()) {
                p.at(n, "is null (expected: " + expected + ")");
            }
            return -1;
        }
        try {
            long v = Long.parseLong(s);
            if (v >= min && v <= max) {
                return (int) v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        p.at(n, "is \"" + s + "\" (expected: " + expected + ")");
        return -1;
    }

    private static int parsePort(String s) {
        try {
            int v = Integer.parseInt(s);
            return v >= 1 && v <= 65535 ? v : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static final List<String> CANONICAL_NAME_LABELS =
            List.of("service.istio.io/canonical-name", "app.kubernetes.io/name", "app");
    private static final List<String> CANONICAL_REVISION_LABELS =
            List.of("service.istio.io/canonical-revision", "app.kubernetes.io/version", "version");

    private static String firstLabel(Map<String, String> labels, List<String> keys, String otherwise) {
        for (String key : keys) {
            String v = labels.get(key);
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        return otherwise;
    }

    private static String orDefault(String v, String d) {
        return v == null || v.isEmpty() ? d : v;
    }

    @SuppressWarnings("unchecked")
    private static <E> Map<String, E> ordered(Object... kv) {
        var m = new LinkedHashMap<String, E>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (E) kv[i + 1]);
        }
        return m;
    }
}
