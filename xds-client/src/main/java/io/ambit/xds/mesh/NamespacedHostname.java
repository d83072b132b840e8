package io.ambit.xds.mesh;

/**
 * A service's key: namespace and hostname, written {@code namespace/hostname} (workload.proto's
 * {@code NamespacedHostname}, and the key of a workload's {@code services} map).
 */
public record NamespacedHostname(String namespace, String hostname) {
    public NamespacedHostname {
        if (namespace == null || namespace.isEmpty() || hostname == null || hostname.isEmpty()) {
            throw new IllegalArgumentException("namespace and hostname must be non-empty");
        }
    }

    /**
     * Parses {@code namespace/hostname}.
     *
     * @throws IllegalArgumentException saying what was expected
     */
    public static NamespacedHostname parse(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("is \"" + text
                    + "\" (expected: namespace/hostname such as default/httpbin.default.svc.cluster.local)");
        }
        return new NamespacedHostname(text.substring(0, slash), text.substring(slash + 1));
    }

    @Override
    public String toString() {
        return namespace + "/" + hostname;
    }
}
