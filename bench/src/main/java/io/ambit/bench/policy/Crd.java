package io.ambit.bench.policy;

import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Source;
import java.util.EnumMap;
import java.util.List;

/**
 * Small builders for the CRD records the fixture writes: {@code rule(from(PRINCIPALS, p).and(IP_BLOCKS, b),
 * to(PORTS, ports))}. Only the fields the fixture uses are settable; every other list stays empty, which the
 * records read as "unset". One {@link Fields} serves both sides, keyed by the field's name.
 */
final class Crd {
    private Crd() {}

    /** The {@code rules[].from[].source} fields the fixture sets. */
    enum SourceField {
        PRINCIPALS,
        NAMESPACES,
        NOT_NAMESPACES,
        IP_BLOCKS,
        NOT_IP_BLOCKS
    }

    /** The {@code rules[].to[].operation} fields the fixture sets. */
    enum OperationField {
        HOSTS,
        PORTS,
        METHODS,
        PATHS,
        NOT_PATHS
    }

    static Rule rule(Fields<SourceField> from, Fields<OperationField> to, Condition... when) {
        return new Rule(
                from == null ? null : List.of(source(from)), to == null ? null : List.of(operation(to)), List.of(when));
    }

    static Condition when(String key, String... values) {
        return new Condition(key, List.of(values), List.of());
    }

    static Fields<SourceField> from(SourceField field, List<String> values) {
        return new Fields<>(SourceField.class).and(field, values);
    }

    static Fields<OperationField> to(OperationField field, List<String> values) {
        return new Fields<>(OperationField.class).and(field, values);
    }

    /** The lists set so far; a field never set reads as empty. */
    static final class Fields<F extends Enum<F>> {
        private final EnumMap<F, List<String>> lists;

        private Fields(Class<F> type) {
            this.lists = new EnumMap<>(type);
        }

        Fields<F> and(F field, List<String> values) {
            lists.put(field, List.copyOf(values));
            return this;
        }

        List<String> get(F field) {
            return lists.getOrDefault(field, List.of());
        }
    }

    private static Source source(Fields<SourceField> f) {
        var none = List.<String>of();
        return new Source(
                f.get(SourceField.PRINCIPALS),
                none,
                none,
                none,
                f.get(SourceField.NAMESPACES),
                f.get(SourceField.NOT_NAMESPACES),
                none,
                none,
                f.get(SourceField.IP_BLOCKS),
                f.get(SourceField.NOT_IP_BLOCKS),
                none,
                none,
                none,
                none);
    }

    private static Operation operation(Fields<OperationField> f) {
        var none = List.<String>of();
        return new Operation(
                f.get(OperationField.HOSTS),
                none,
                f.get(OperationField.PORTS),
                none,
                f.get(OperationField.METHODS),
                none,
                f.get(OperationField.PATHS),
                f.get(OperationField.NOT_PATHS));
    }
}
