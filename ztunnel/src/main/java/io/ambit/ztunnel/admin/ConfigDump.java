package io.ambit.ztunnel.admin;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import java.util.Collection;
import java.util.Map;

/**
 * Admin {@code /config_dump} (ztunnel-reference.md §7.3): {@code workloads}, {@code services},
 * {@code policies} and {@code certificates} (identity, state, expiry) as JSON, built from the current
 * snapshot and the certificates in memory; no I/O, so it may run on an event loop.
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
            b.append("\"workloadIps\": ");
            strings(b, w.ips().stream().map(Object::toString).toList()).append(", ");
            field(b, "serviceAccount", w.serviceAccount()).append(", ");
            field(b, "identity", w.identity().toString()).append(", ");
            field(b, "node", w.node()).append(", ");
            field(b, "protocol", w.protocol().name()).append(", ");
            field(b, "status", w.status().name()).append(", ");
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
            strings(b, s.vips().stream().map(Object::toString).toList()).append(", \"ports\": {");
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
        sep = "";
        var set = state.policies().policies();
        for (var p : set.authorizationPolicies()) {
            b.append(sep).append("\n  {");
            field(b, "kind", "AuthorizationPolicy").append(", ");
            field(b, "name", p.meta().name()).append(", ");
            field(b, "namespace", p.meta().namespace()).append(", ");
            field(b, "action", String.valueOf(p.action())).append(", ");
            b.append("\"rules\": ").append(p.rules().size()).append('}');
            sep = ",";
        }
        for (var p : set.peerAuthentications()) {
            b.append(sep).append("\n  {");
            field(b, "kind", "PeerAuthentication").append(", ");
            field(b, "name", p.meta().name()).append(", ");
            field(b, "namespace", p.meta().namespace()).append(", ");
            field(b, "mode", String.valueOf(p.mode())).append('}');
            sep = ",";
        }
        b.append("\n],\n\"certificates\": [");
        sep = "";
        for (var id : certificates.identities()) {
            var cert = certificates.current(id);
            b.append(sep).append("\n  {");
            field(b, "identity", id.toString()).append(", ");
            field(b, "state", cert.isPresent() ? "Available" : "Initializing");
            if (cert.isPresent()) {
                var c = cert.get();
                b.append(", \"certChain\": [{");
                field(b, "serialNumber", c.leaf().getSerialNumber().toString(16))
                        .append(", ");
                field(b, "validFrom", c.notBefore().toString()).append(", ");
                field(b, "expirationTime", c.notAfter().toString()).append("}]");
            }
            b.append('}');
            sep = ",";
        }
        return b.append("\n]\n}\n").toString();
    }

    private static StringBuilder field(StringBuilder b, String key, String value) {
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
