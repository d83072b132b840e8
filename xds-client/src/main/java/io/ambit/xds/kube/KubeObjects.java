package io.ambit.xds.kube;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a Kubernetes object into the text the local mesh file's parser reads, so an object from the API
 * server means exactly what the same object means in a file. Only what a user wrote is kept: apiVersion,
 * kind, the metadata that carries meaning (name, namespace, labels, annotations, creationTimestamp — Istio
 * orders policies by it) and spec. What the server adds (status, managedFields, uid, resourceVersion, the
 * last-applied annotation) is dropped: it is not the user's, and the strict parser would rightly refuse it.
 */
final class KubeObjects {
    private static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    private KubeObjects() {}

    /** {@code Kind namespace/name}, as the parsers name objects in their errors. */
    static String ref(Map<String, Object> object) {
        var meta = KubeJson.map(object, "metadata");
        String ns = KubeJson.string(meta, "namespace");
        return KubeJson.string(object, "kind") + " " + (ns == null || ns.isEmpty() ? "default" : ns) + "/"
                + KubeJson.string(meta, "name");
    }

    /** {@code namespace/name}: the key of an object within its kind. */
    static String key(Map<String, Object> object) {
        var meta = KubeJson.map(object, "metadata");
        return KubeJson.string(meta, "namespace") + "/" + KubeJson.string(meta, "name");
    }

    static String resourceVersion(Map<String, Object> object) {
        return KubeJson.string(KubeJson.map(object, "metadata"), "resourceVersion");
    }

    static String creationTimestamp(Map<String, Object> object) {
        String t = KubeJson.string(KubeJson.map(object, "metadata"), "creationTimestamp");
        return t == null ? "" : t;
    }

    /** The user's part of {@code object} as one YAML document (without {@code ---}). */
    static String text(Map<String, Object> object) {
        var out = new LinkedHashMap<String, Object>();
        out.put("apiVersion", object.get("apiVersion"));
        out.put("kind", object.get("kind"));
        var meta = KubeJson.map(object, "metadata");
        var keep = new LinkedHashMap<String, Object>();
        for (String k : new String[] {"name", "namespace", "labels", "creationTimestamp"}) {
            if (meta.containsKey(k)) {
                keep.put(k, meta.get(k));
            }
        }
        if (meta.get("annotations") instanceof Map<?, ?> a) {
            var annotations = new LinkedHashMap<String, Object>(KubeJson.cast(a));
            annotations.remove(LAST_APPLIED);
            if (!annotations.isEmpty()) {
                keep.put("annotations", annotations);
            }
        }
        out.put("metadata", keep);
        if (object.containsKey("spec")) {
            out.put("spec", object.get("spec"));
        }
        return KubeJson.yaml(out);
    }

    /**
     * The mesh document for Istio's mesh config text (the {@code mesh} key of the {@code istio} ConfigMap),
     * under Istio's {@code meshConfig:} wrapper, where Istio's settings that Ambit does not use are allowed.
     */
    static String meshDocument(String meshConfigYaml) {
        if (meshConfigYaml == null || meshConfigYaml.isBlank()) {
            return "mesh: {meshConfig: {}}\n";
        }
        return "mesh:\n  meshConfig:\n" + meshConfigYaml.stripTrailing().indent(4);
    }
}
