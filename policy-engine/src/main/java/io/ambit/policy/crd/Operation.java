package io.ambit.policy.crd;

import java.util.List;

/** {@code rules[].to[].operation}. Every list is non-null; an empty list means the field is unset. */
public record Operation(
        List<String> hosts,
        List<String> notHosts,
        List<String> ports,
        List<String> notPorts,
        List<String> methods,
        List<String> notMethods,
        List<String> paths,
        List<String> notPaths) {}
