package io.ambit.policy.crd;

import java.time.Instant;
import java.util.Map;

/**
 * The identifying part of one loaded object, plus where it came from so that errors and
 * explanations can point at it.
 *
 * @param name            {@code metadata.name}
 * @param namespace       {@code metadata.namespace} ({@code default} when absent, as kubectl applies it)
 * @param annotations     {@code metadata.annotations}, never null
 * @param created         {@code metadata.creationTimestamp}, or null when the file has none
 * @param order           position in load order; breaks ties where Istio picks the oldest object
 * @param source          file and line, for messages
 */
public record PolicyMeta(
        String name, String namespace, Map<String, String> annotations, Instant created, long order, String source) {
    public PolicyMeta {
        annotations = Map.copyOf(annotations);
    }

    /** {@code namespace/name}, the form used in decisions and explanations. */
    public String ref() {
        return namespace + "/" + name;
    }

    public String annotation(String key) {
        return annotations.get(key);
    }
}
