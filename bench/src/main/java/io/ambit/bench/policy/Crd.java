package io.ambit.bench.policy;

import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Source;
import java.util.List;

/**
 * Small builders for the CRD records the fixture writes. Only the fields the fixture uses are
 * settable; every other list stays empty, which the records read as "unset".
 */
final class Crd {
    private Crd() {}

    static Rule rule(Src from, Op to, Condition... when) {
        return new Rule(
                from == null ? null : List.of(from.build()), to == null ? null : List.of(to.build()), List.of(when));
    }

    static Condition when(String key, String... values) {
        return new Condition(key, List.of(values), List.of());
    }

    static Src src() {
        return new Src();
    }

    static Op op() {
        return new Op();
    }

    /** {@code rules[].from[].source}. */
    static final class Src {
        private List<String> principals = List.of();
        private List<String> namespaces = List.of();
        private List<String> notNamespaces = List.of();
        private List<String> ipBlocks = List.of();
        private List<String> notIpBlocks = List.of();

        Src principals(List<String> v) {
            principals = List.copyOf(v);
            return this;
        }

        Src namespaces(List<String> v) {
            namespaces = List.copyOf(v);
            return this;
        }

        Src notNamespaces(List<String> v) {
            notNamespaces = List.copyOf(v);
            return this;
        }

        Src ipBlocks(List<String> v) {
            ipBlocks = List.copyOf(v);
            return this;
        }

        Src notIpBlocks(List<String> v) {
            notIpBlocks = List.copyOf(v);
            return this;
        }

        Source build() {
            var none = List.<String>of();
            return new Source(
                    principals,
                    none,
                    none,
                    none,
                    namespaces,
                    notNamespaces,
                    none,
                    none,
                    ipBlocks,
                    notIpBlocks,
                    none,
                    none,
                    none,
                    none);
        }
    }

    /** {@code rules[].to[].operation}. */
    static final class Op {
        private List<String> hosts = List.of();
        private List<String> ports = List.of();
        private List<String> methods = List.of();
        private List<String> paths = List.of();
        private List<String> notPaths = List.of();

        Op hosts(List<String> v) {
            hosts = List.copyOf(v);
            return this;
        }

        Op ports(List<String> v) {
            ports = List.copyOf(v);
            return this;
        }

        Op methods(List<String> v) {
            methods = List.copyOf(v);
            return this;
        }

        Op paths(List<String> v) {
            paths = List.copyOf(v);
            return this;
        }

        Op notPaths(List<String> v) {
            notPaths = List.copyOf(v);
            return this;
        }

        Operation build() {
            var none = List.<String>of();
            return new Operation(hosts, none, ports, none, methods, none, paths, notPaths);
        }
    }
}
