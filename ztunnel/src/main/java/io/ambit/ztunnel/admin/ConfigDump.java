package io.ambit.ztunnel.admin;

import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Admin {@code /config_dump} (ztunnel-reference.md §7.3): {@code workloads}, {@code services},
 * {@code policies} and {@code certificates} as JSON, built from the current snapshot and the certificates
 * in memory; no I/O, so it may run on an event loop. Field names, value forms and nesting are ztunnel's,
 * so {@code istioctl ztunnel-config} (which decodes the dump into typed Go structs: one field of the
 * wrong JSON type fails the whole command) reads it; fields ztunnel does not have are ours and ignored.
 */
public final class ConfigDump {
    private ConfigDump() {}

    public static String json(MeshState state, CertificateManager certificates) {
        var b = new StringBuilder(4096).append("{\n\"workloads\": [");
        String sep = "";
        for (Workload w : state.workloads()) {
            b.append(sep).append("\n  {");
            field(b, "uid", w.uid()).append(", ");
            field(b, "name", w.name()).append(", ");
            field(b, "namespace", w.namespace()).append(", ");
            b.append("\"workloadIps\": "); // plain IPs, as ztunnel (the network is its own field)
            strings(b, w.ips().stream().map(a -> a.ip().toString()).toList()).append(", ");
            field(b, "serviceAccount", w.serviceAccount()).append(", ");
            field(b, "identity", w.identity().toString()).append(", ");
            field(b, "node", w.node()).append(", ");
            field(b, "protocol", w.protocol().name()).append(", ");
            field(b, "status", w.status() == Workload.Status.HEALTHY ? "Healthy" : "Unhealthy")
                    .append(", ");
            field(b, "trustDomain", w.trustDomain()).append(", ");
            field(b, "network", w.network()).append(", ");
            field(b, "hostname", w.hostname()).append(", ");
            field(b, "workloadName", w.workloadName()).append(", ");
            field(b, "workloadType", w.workloadType().name().toLowerCase(Locale.ROOT))
                    .append(", ");
            field(b, "canonicalName", w.canonicalName()).append(", ");
            field(b, "canonicalRevision", w.canonicalRevision()).append(", ");
            field(b, "clusterId", w.clusterId()).append(", ");
            b.append("\"locality\": {");
            field(b, "region", w.locality().region()).append(", ");
            field(b, "zone", w.locality().zone()).append(", ");
            field(b, "subzone", w.locality().subzone()).append("}, \"authorizationPolicies\": ");
            strings(b, w.authorizationPolicies()).append(", ");
            b.append("\"labels\": ");
            map(b, w.labels()).append('}');
            sep = ",";
        }
        b.append("\n],\n\"services\": [");
        sep = "";
        for (Service s : state.services()) {
            b.append(sep).append("\n  {");
            field(b, "name", s.name()).append(", ");
            field(b, "namespace", s.namespace()).append(", ");
            field(b, "hostname", s.hostname()).append(", ");
            b.append("\"vips\": ");
            strings(b, s.vips().stream().map(Object::toString).toList());
            if (!s.cidrVips().isEmpty()) {
                // as ztunnel dumps them: cidrVips, left out when empty
                b.append(", \"cidrVips\": ");
                strings(b, s.cidrVips().stream().map(Object::toString).toList());
            }
            b.append(", \"ports\": {");
            String ps = "";
            for (var p : s.ports()) {
                b.append(ps).append('"').append(p.servicePort()).append("\": ").append(p.targetPort());
                ps = ", ";
            }
            b.append("}, \"subjectAltNames\": ");
            strings(b, s.subjectAltNames()).append('}');
            sep = ",";
        }
        b.append("\n],\n\"policies\": [");
        DumpPolicies.append(
                b, state.policies().policies(), state.policies().mesh().rootNamespace());
        b.append("\n],\n\"certificates\": [");
        sep = "";
        for (var id : certificates.identities()) {
            var cert = certificates.current(id);
            b.append(sep).append("\n  {");
            field(b, "identity", id.toString()).append(", ");
            field(b, "state", cert.isPresent() ? "Available" : "Initializing");
            if (cert.isPresent()) {
                var c = cert.get();
                // ztunnel's order, which istioctl relies on: the leaf first, then the rest of the chain
                // up to and including the roots; rootCerts (ztunnel at HEAD) repeats the roots alone.
                var chain = new ArrayList<X509Certificate>(c.chain());
                chain.removeIf(x -> c.roots().contains(x));
                chain.addAll(c.roots());
                b.append(", \"certChain\": ");
                certs(b, chain).append(", \"rootCerts\": ");
                certs(b, c.roots());
            } else {
                b.append(", \"certChain\": []");
            }
            b.append('}');
            sep = ",";
        }
        return b.append("\n]\n}\n").toString();
    }

    /**
     * Certificates as ztunnel dumps them: {@code pem} is the PEM text base64-encoded, the serial number in
     * decimal (istioctl parses it base 10), the dates RFC 3339 to the second.
     */
    private static StringBuilder certs(StringBuilder b, List<X509Certificate> certs) {
        b.append('[');
        String sep = "";
        for (var x : certs) {
            b.append(sep).append('{');
            field(
                            b,
                            "pem",
                            Base64.getEncoder()
                                    .encodeToString(
                                            Pem.encodeCertificates(List.of(x)).getBytes(StandardCharsets.US_ASCII)))
                    .append(", ");
            field(b, "serialNumber", x.getSerialNumber().toString()).append(", ");
            field(b, "validFrom", rfc3339(x.getNotBefore())).append(", ");
            field(b, "expirationTime", rfc3339(x.getNotAfter())).append('}');
            sep = ", ";
        }
        return b.append(']');
    }

    private static String rfc3339(java.util.Date date) {
        return DateTimeFormatter.ISO_INSTANT.format(date.toInstant().truncatedTo(ChronoUnit.SECONDS));
    }

    static StringBuilder field(StringBuilder b, String key, String value) {
        string(b, key).append(": ");
        return value == null ? b.append("null") : string(b, value);
    }

    private static StringBuilder strings(StringBuilder b, Collection<String> values) {
        b.append('[');
        String sep = "";
        for (var v : values) {
            string(b.append(sep), v);
            sep = ", ";
        }
        return b.append(']');
    }

    private static StringBuilder map(StringBuilder b, Map<String, String> values) {
        b.append('{');
        String sep = "";
        for (var e : values.entrySet()) {
            field(b.append(sep), e.getKey(), e.getValue());
            sep = ", ";
        }
        return b.append('}');
    }

    /** A JSON string literal. */
    static StringBuilder string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"');
    }
}
