package io.ambit.policy.load;

import io.ambit.policy.crd.Action;
import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.Condition;
import io.ambit.policy.crd.ConditionKey;
import io.ambit.policy.crd.Operation;
import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.Rule;
import io.ambit.policy.crd.Source;
import io.ambit.policy.match.Cidr;
import io.ambit.policy.match.Comparison;
import io.ambit.policy.match.TimeWindow;
import io.ambit.policy.match.Weekdays;
import io.ambit.policy.path.PathTemplate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads and validates one AuthorizationPolicy as istiod's validation does (authz-semantics §2.1), so
 * that nothing Istio would reject reaches a snapshot.
 */
final class AuthorizationPolicyReader {
    static final String EXTENDED_ANNOTATION = "ambit.io/extended-conditions";
    private static final Set<String> SPEC =
            Set.of("selector", "targetRef", "targetRefs", "action", "provider", "rules");
    private static final Set<String> RULE = Set.of("from", "to", "when");
    private static final Set<String> FROM = Set.of("source");
    private static final Set<String> TO = Set.of("operation");
    private static final Set<String> SOURCE = Set.of(
            "principals",
            "notPrincipals",
            "requestPrincipals",
            "notRequestPrincipals",
            "namespaces",
            "notNamespaces",
            "serviceAccounts",
            "notServiceAccounts",
            "ipBlocks",
            "notIpBlocks",
            "remoteIpBlocks",
            "notRemoteIpBlocks",
            "trustDomains",
            "notTrustDomains");
    private static final Set<String> OPERATION =
            Set.of("hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths");
    private static final Set<String> CONDITION = Set.of("key", "values", "notValues");
    private static final Set<String> PROVIDER = Set.of("name");
    /** Source fields that carry an identity, which CUSTOM rules may not use. */
    private static final Set<String> IDENTITY_FIELDS = Set.of(
            "principals",
            "notPrincipals",
            "namespaces",
            "notNamespaces",
            "serviceAccounts",
            "notServiceAccounts",
            "trustDomains",
            "requestPrincipals",
            "notRequestPrincipals");

    private final Problems p;
    private final boolean extended;
    private final String namespace;
    private Action action = Action.ALLOW;

    private AuthorizationPolicyReader(Problems p, boolean extended, String namespace) {
        this.p = p;
        this.extended = extended;
        this.namespace = namespace;
    }

    /** Returns the policy, or null when it has problems (recorded in {@code p}). */
    static AuthorizationPolicy read(YamlNode spec, PolicyMeta meta, Problems p, boolean meshExtended) {
        boolean extended = meshExtended || "true".equalsIgnoreCase(meta.annotation(EXTENDED_ANNOTATION));
        return new AuthorizationPolicyReader(p, extended, meta.namespace()).read(spec, meta);
    }

    private AuthorizationPolicy read(YamlNode spec, PolicyMeta meta) {
        var f = Fields.map(spec, p, SPEC);
        var attach = Attachment.read(spec, f, p);

        var actionNode = f.get("action");
        String actionText = Fields.string(actionNode, p);
        if (actionText != null) {
            try {
                action = Action.valueOf(actionText);
            } catch (IllegalArgumentException e) {
                p.at(actionNode, "is \"" + actionText + "\" (expected one of: ALLOW, DENY, AUDIT, CUSTOM)");
            }
        }

        String provider = null;
        var providerNode = f.get("provider");
        if (providerNode != null && !providerNode.isNull()) {
            var pf = Fields.map(providerNode, p, PROVIDER);
            provider = Fields.string(pf.get("name"), p);
            if (action != Action.CUSTOM) {
                p.at(providerNode, "is set but action is " + action + " (expected: provider only with action CUSTOM)");
            }
        }
        if (action == Action.CUSTOM && (provider == null || provider.isEmpty())) {
            p.at(spec, ".provider.name", "is missing (expected: the name of an extensionProvider for action CUSTOM)");
        }

        var rulesNode = f.get("rules");
        var ruleNodes = Fields.listOrNull(rulesNode, p);
        var rules = new ArrayList<Rule>();
        if (ruleNodes != null) {
            for (var r : ruleNodes) {
                var rule = rule(r);
                if (rule != null) {
                    rules.add(rule);
                }
            }
        }
        if ((action == Action.DENY || action == Action.CUSTOM) && (ruleNodes == null || ruleNodes.isEmpty())) {
            p.at(
                    spec,
                    ".rules",
                    "is missing: a " + action + " policy without rules is meaningless (expected: at "
                            + "least one rule; use rules: [{}] to match every request)");
        }
        if (p.any()) {
            return null;
        }
        return new AuthorizationPolicy(
                meta, attach.selector(), attach.targetRefs(), action, provider, List.copyOf(rules));
    }

    private Rule rule(YamlNode r) {
        var f = Fields.map(r, p, RULE);
        List<Source> from = null;
        var fromNodes = Fields.listOrNull(f.get("from"), p);
        if (fromNodes != null) {
            if (fromNodes.isEmpty()) {
                p.at(f.get("from"), "is an empty list (expected: at least one source, or omit from to match any)");
            }
            from = new ArrayList<>();
            for (var n : fromNodes) {
                var sf = Fields.map(n, p, FROM);
                var s = sf.get("source");
                if (s == null || s.isNull() || (s.isMap() && s.entries().isEmpty())) {
                    p.at(n, ".source", "is missing or empty (expected: a source with at least one field set)");
                    continue;
                }
                var src = source(s);
                if (isEmpty(src)) {
                    p.at(s, "has no field set (expected: at least one non-empty field)");
                }
                from.add(src);
            }
        }
        List<Operation> to = null;
        var toNodes = Fields.listOrNull(f.get("to"), p);
        if (toNodes != null) {
            if (toNodes.isEmpty()) {
                p.at(f.get("to"), "is an empty list (expected: at least one operation, or omit to to match any)");
            }
            to = new ArrayList<>();
            for (var n : toNodes) {
                var of = Fields.map(n, p, TO);
                var o = of.get("operation");
                if (o == null || o.isNull() || (o.isMap() && o.entries().isEmpty())) {
                    p.at(n, ".operation", "is missing or empty (expected: an operation with at least one field set)");
                    continue;
                }
                var op = operation(o);
                if (op.hosts().isEmpty()
                        && op.notHosts().isEmpty()
                        && op.ports().isEmpty()
                        && op.notPorts().isEmpty()
                        && op.methods().isEmpty()
                        && op.notMethods().isEmpty()
                        && op.paths().isEmpty()
                        && op.notPaths().isEmpty()) {
                    p.at(o, "has no field set (expected: at least one non-empty field)");
                }
                to.add(op);
            }
        }
        var when = new ArrayList<Condition>();
        var whenNodes = Fields.listOrNull(f.get("when"), p);
        if (whenNodes != null) {
            for (var n : whenNodes) {
                var c = condition(n);
                if (c != null) {
                    when.add(c);
                }
            }
        }
        return new Rule(
                from == null ? null : List.copyOf(from), to == null ? null : List.copyOf(to), List.copyOf(when));
    }

    /** A source with only empty lists would match everything at L7 and nothing at L4: Istio rejects it. */
    private static boolean isEmpty(Source s) {
        return java.util.stream.Stream.of(
                        s.principals(),
                        s.notPrincipals(),
                        s.requestPrincipals(),
                        s.notRequestPrincipals(),
                        s.namespaces(),
                        s.notNamespaces(),
                        s.serviceAccounts(),
                        s.notServiceAccounts(),
                        s.ipBlocks(),
                        s.notIpBlocks(),
                        s.remoteIpBlocks(),
                        s.notRemoteIpBlocks(),
                        s.trustDomains(),
                        s.notTrustDomains())
                .allMatch(List::isEmpty);
    }

    private Source source(YamlNode s) {
        var f = Fields.map(s, p, SOURCE);
        if (action == Action.CUSTOM) {
            for (var e : f.entrySet()) {
                if (IDENTITY_FIELDS.contains(e.getKey())) {
                    p.at(
                            e.getValue(),
                            "is not supported with action CUSTOM (expected: no identity fields in a "
                                    + "CUSTOM rule; the provider sees the request itself)");
                }
            }
        }
        boolean sa = f.containsKey("serviceAccounts") || f.containsKey("notServiceAccounts");
        if (sa) {
            for (String k : List.of("principals", "notPrincipals", "namespaces", "notNamespaces")) {
                if (f.containsKey(k)) {
                    p.at(
                            f.get(k),
                            "cannot be combined with serviceAccounts/notServiceAccounts in one source "
                                    + "(expected: put them in separate sources)");
                }
            }
        }
        var src = new Source(
                list(f, "principals"),
                list(f, "notPrincipals"),
                list(f, "requestPrincipals"),
                list(f, "notRequestPrincipals"),
                list(f, "namespaces"),
                list(f, "notNamespaces"),
                serviceAccounts(f, "serviceAccounts"),
                serviceAccounts(f, "notServiceAccounts"),
                ips(f, "ipBlocks"),
                ips(f, "notIpBlocks"),
                ips(f, "remoteIpBlocks"),
                ips(f, "notRemoteIpBlocks"),
                list(f, "trustDomains"),
                list(f, "notTrustDomains"));
        return src;
    }

    private Operation operation(YamlNode o) {
        var f = Fields.map(o, p, OPERATION);
        return new Operation(
                list(f, "hosts"),
                list(f, "notHosts"),
                ports(f, "ports"),
                ports(f, "notPorts"),
                list(f, "methods"),
                list(f, "notMethods"),
                paths(f, "paths"),
                paths(f, "notPaths"));
    }

    private Condition condition(YamlNode n) {
        var f = Fields.map(n, p, CONDITION);
        String key = Fields.string(f.get("key"), p);
        var values = Fields.stringListOrNull(f.get("values"), p);
        var notValues = Fields.stringListOrNull(f.get("notValues"), p);
        if (key == null || key.isEmpty()) {
            p.at(n, ".key", "is missing (expected: a condition key such as request.headers[x-token])");
            return null;
        }
        if ((values == null || values.isEmpty()) && (notValues == null || notValues.isEmpty())) {
            p.at(n, "has neither values nor notValues (expected: at least one of them)");
        }
        ConditionKey ck;
        try {
            ck = ConditionKey.parse(key);
        } catch (IllegalArgumentException e) {
            p.at(f.get("key"), e.getMessage());
            return null;
        }
        if (ck.isExtended() && !extended) {
            p.at(
                    f.get("key"),
                    "\"" + key + "\" is an Ambit extended condition, which is off (expected: a standard "
                            + "Istio key, or turn extended conditions on with the annotation " + EXTENDED_ANNOTATION
                            + ": \"true\" on this policy or extendedConditions: true in the mesh config)");
        }
        if (action == Action.CUSTOM) {
            switch (ck.kind()) {
                case SOURCE_NAMESPACE,
                        SOURCE_PRINCIPAL,
                        SOURCE_SERVICE_ACCOUNT,
                        SOURCE_TRUST_DOMAIN,
                        AUTH_PRINCIPAL,
                        AUTH_AUDIENCES,
                        AUTH_PRESENTER,
                        AUTH_CLAIM ->
                    p.at(
                            f.get("key"),
                            "\"" + key + "\" is not supported with action CUSTOM (expected: no identity or JWT keys)");
                default -> {}
            }
        }
        List<String> vs = values == null ? List.of() : values;
        List<String> nvs = notValues == null ? List.of() : notValues;
        checkValues(ck, f.get("values"), vs);
        checkValues(ck, f.get("notValues"), nvs);
        return new Condition(key, vs, nvs);
    }

    private void checkValues(ConditionKey key, YamlNode listNode, List<String> values) {
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            String at = "[" + i + "]";
            try {
                switch (key.kind()) {
                    case SOURCE_IP, REMOTE_IP, DESTINATION_IP -> Cidr.parse(v);
                    case DESTINATION_PORT -> port(v);
                    case SOURCE_SERVICE_ACCOUNT -> serviceAccount(v);
                    case TIME_OF_DAY -> TimeWindow.parse(v);
                    case DAY_OF_WEEK -> Weekdays.parse(v);
                    case URL_PATH -> pathValue(v);
                    default -> {
                        if (key.allowsComparison() && !extended && Comparison.parseOrNull(v) != null) {
                            throw new IllegalArgumentException("\"" + v + "\" is a numeric comparison, an Ambit "
                                    + "extended condition, which is off (expected: a literal value, or turn "
                                    + "extended conditions on with the annotation " + EXTENDED_ANNOTATION
                                    + ": \"true\" or extendedConditions: true in the mesh config)");
                        }
                    }
                }
            } catch (IllegalArgumentException e) {
                p.at(listNode, at, e.getMessage());
            }
        }
    }

    private List<String> list(Map<String, YamlNode> f, String key) {
        return Fields.stringList(f.get(key), p);
    }

    private List<String> ips(Map<String, YamlNode> f, String key) {
        return checked(f, key, Cidr::parse);
    }

    private List<String> ports(Map<String, YamlNode> f, String key) {
        return checked(f, key, AuthorizationPolicyReader::port);
    }

    private List<String> paths(Map<String, YamlNode> f, String key) {
        return checked(f, key, AuthorizationPolicyReader::pathValue);
    }

    private List<String> serviceAccounts(Map<String, YamlNode> f, String key) {
        var values = checked(f, key, AuthorizationPolicyReader::serviceAccount);
        if (values.size() > 16) {
            p.at(f.get(key), "has " + values.size() + " entries (expected: at most 16)");
        }
        return values;
    }

    /** A value list whose every entry must pass {@code check}; each failure is reported at its index. */
    private List<String> checked(Map<String, YamlNode> f, String key, Consumer<String> check) {
        var values = list(f, key);
        for (int i = 0; i < values.size(); i++) {
            try {
                check.accept(values.get(i));
            } catch (IllegalArgumentException e) {
                p.at(f.get(key), "[" + i + "]", e.getMessage());
            }
        }
        return values;
    }

    /** Ports are decimal strings 0..65535 in the CRD. */
    static int port(String v) {
        // istiod parses with strconv.Atoi, so leading zeros ("000080") are fine; the length cap keeps
        // parseInt in range.
        if (v.isEmpty() || v.length() > 9 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("\"" + v + "\" is not a port (expected: a decimal integer 0..65535)");
        }
        int port = Integer.parseInt(v);
        if (port > 65535) {
            throw new IllegalArgumentException("\"" + v + "\" is not a port (expected: a decimal integer 0..65535)");
        }
        return port;
    }

    private static void serviceAccount(String v) {
        String expected = " (expected: \"<sa>\" or \"<namespace>/<sa>\", no wildcards, at most 320 characters)";
        if (v.length() > 320) {
            throw new IllegalArgumentException("is " + v.length() + " characters long" + expected);
        }
        if (v.indexOf('*') >= 0) {
            throw new IllegalArgumentException("\"" + v + "\" contains a wildcard" + expected);
        }
        String[] parts = v.split("/", -1);
        if (parts.length > 2) {
            throw new IllegalArgumentException("\"" + v + "\" has more than one '/'" + expected);
        }
        for (String part : parts) {
            if (part.isEmpty()) {
                throw new IllegalArgumentException("\"" + v + "\" has an empty part" + expected);
            }
        }
    }

    private static void pathValue(String v) {
        if (PathTemplate.isTemplate(v)) {
            PathTemplate.validate(v).ifPresent(msg -> {
                throw new IllegalArgumentException("\"" + v + "\": " + msg);
            });
        }
    }
}
