package io.ambit.bench.policy;

import static io.ambit.bench.policy.Crd.OperationField.HOSTS;
import static io.ambit.bench.policy.Crd.OperationField.METHODS;
import static io.ambit.bench.policy.Crd.OperationField.PATHS;
import static io.ambit.bench.policy.Crd.OperationField.PORTS;
import static io.ambit.bench.policy.Crd.SourceField.IP_BLOCKS;
import static io.ambit.bench.policy.Crd.SourceField.NAMESPACES;
import static io.ambit.bench.policy.Crd.SourceField.NOT_NAMESPACES;
import static io.ambit.bench.policy.Crd.SourceField.PRINCIPALS;
import static io.ambit.bench.policy.Crd.from;
import static io.ambit.bench.policy.Crd.rule;
import static io.ambit.bench.policy.Crd.to;
import static io.ambit.bench.policy.Crd.when;

import io.ambit.policy.crd.Rule;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random rules of the kinds people write, drawn from one {@link Random} so that a namespace's policies
 * depend only on its seed. Every random rule is built so that it can never match the representative
 * requests of {@link Requests}: allow rules name identities other than the {@link Requests#CLIENT}
 * namespace ({@code frontend}), deny rules name external address ranges, admin ports, admin paths or
 * scanner user agents. Only the rules from {@link #clientL4} and {@link #clientL7} let the client in.
 */
final class Rules {
    /** Namespaces that random rules refer to; independent of the mesh size, so ns 0 is the same in every mesh. */
    private static final int NAMESPACE_UNIVERSE = 2_000;

    private static final String[] SERVICE_ACCOUNTS = {
        "default", "api", "web", "worker", "db", "batch", "monitor", "gateway", "cron", "migrator"
    };
    private static final String[] APP_PORTS = {"8080", "8443", "9090", "5432", "6379", "3306", "8000", "9000", "15020"};
    private static final String[] ADMIN_PORTS = {"22", "2379", "2380", "10250", "6443", "9100"};
    private static final String[] RESOURCES = {
        "items", "orders", "carts", "users", "invoices", "payments", "reports", "products", "reviews", "stock"
    };
    private static final String[][] METHOD_SETS = {
        {"GET"}, {"GET", "HEAD"}, {"POST"}, {"PUT", "PATCH"}, {"GET", "POST"}, {"DELETE"}, {"GET", "HEAD", "OPTIONS"}
    };
    private static final String[] OPEN_PATHS = {"/healthz", "/readyz", "/metrics", "/public/*", "*/favicon.ico"};
    private static final String[] ADMIN_PATHS = {
        "/admin/*", "/internal/*", "/debug/*", "/actuator/*", "*.php", "/.git*", "/.env", "/api/v1/accounts/*"
    };
    private static final String[] SCANNERS = {"sqlmap*", "nikto*", "masscan*", "zgrab*", "*Nuclei"};

    private Rules() {}

    /** An ALLOW rule ztunnel can enforce: who (principals, namespaces, addresses) and which ports. */
    static Rule l4Allow(Random r) {
        var from =
                switch (r.nextInt(4)) {
                    case 0 -> from(PRINCIPALS, principals(r, 1 + r.nextInt(3)));
                    case 1 -> from(NAMESPACES, List.of(namespace(r), namespace(r)));
                    case 2 -> from(PRINCIPALS, List.of("cluster.local/ns/" + namespace(r) + "/sa/*"));
                    default -> from(PRINCIPALS, principals(r, 1 + r.nextInt(2))).and(IP_BLOCKS, List.of(podCidr(r)));
                };
        var to = r.nextInt(10) < 6 ? to(PORTS, pick(r, APP_PORTS, 1 + r.nextInt(2))) : null;
        if (r.nextInt(5) == 0) {
            return rule(from, to, when("source.ip", podCidr(r)));
        }
        return rule(from, to);
    }

    /**
     * An ALLOW rule with an HTTP attribute on a selector policy, a common mistake: ztunnel drops it (the
     * compiler records a note), waypoints never see it.
     */
    static Rule l4WithHttp(Random r) {
        return rule(
                from(PRINCIPALS, principals(r, 1)), to(METHODS, List.of("GET")).and(PATHS, List.of("/metrics")));
    }

    /** A DENY rule ztunnel can enforce: block lists of addresses, identities on admin ports, admin ports. */
    static Rule l4Deny(Random r) {
        return switch (r.nextInt(3)) {
            case 0 -> rule(from(IP_BLOCKS, externalCidrs(r, 1 + r.nextInt(3))), null);
            case 1 -> rule(from(PRINCIPALS, principals(r, 1 + r.nextInt(2))), to(PORTS, pick(r, ADMIN_PORTS, 1)));
            default -> rule(null, to(PORTS, pick(r, ADMIN_PORTS, 1 + r.nextInt(2))));
        };
    }

    /** A mesh-wide block list entry. */
    static Rule blockList(Random r) {
        return rule(from(IP_BLOCKS, externalCidrs(r, 2 + r.nextInt(4))), null);
    }

    /** The rule that admits the client over L4: the last rule of its policy, so a decision walks them all. */
    static Rule clientL4(Random r) {
        return rule(
                from(PRINCIPALS, List.of(principal(r), Requests.CLIENT)).and(IP_BLOCKS, List.of("10.0.0.0/8")),
                to(PORTS, List.of("8080", "8443")));
    }

    /** An ALLOW rule for a waypoint: who, with which methods, paths, hosts and headers. */
    static Rule l7Allow(Random r, String ns, String service) {
        if (r.nextInt(5) == 0) {
            // health checks and public assets, from anyone
            return rule(null, to(METHODS, List.of("GET")).and(PATHS, pick(r, OPEN_PATHS, 1 + r.nextInt(2))));
        }
        var from = r.nextBoolean()
                ? from(PRINCIPALS, principals(r, 1 + r.nextInt(3)))
                : from(NAMESPACES, List.of(namespace(r), namespace(r) + "*"));
        var to =
                to(METHODS, List.of(METHOD_SETS[r.nextInt(METHOD_SETS.length)])).and(PATHS, paths(r, 1 + r.nextInt(3)));
        if (r.nextInt(10) < 3) {
            to.and(HOSTS, List.of(service + "." + ns + ".svc.cluster.local", service + "." + ns));
        }
        if (r.nextInt(10) < 3) {
            return rule(from, to, when("request.headers[x-tenant]", "tenant-" + r.nextInt(100)));
        }
        return rule(from, to);
    }

    /** A DENY rule for a waypoint: admin paths from outside, known-bad identities or addresses, scanners. */
    static Rule l7Deny(Random r, String ns) {
        return switch (r.nextInt(4)) {
            case 0 -> rule(from(NOT_NAMESPACES, List.of(ns)), to(PATHS, pick(r, ADMIN_PATHS, 1 + r.nextInt(2))));
            case 1 -> rule(from(PRINCIPALS, principals(r, 1 + r.nextInt(2))), null);
            case 2 -> rule(from(IP_BLOCKS, externalCidrs(r, 1 + r.nextInt(2))), to(METHODS, List.of("POST", "PUT")));
            default ->
                rule(
                        null,
                        null,
                        when("request.headers[user-agent]", pick(r, SCANNERS, 2).toArray(String[]::new)));
        };
    }

    /** The rule that admits the client at the waypoint: the last rule of its policy. */
    static Rule clientL7(String ns) {
        return rule(
                from(PRINCIPALS, List.of(Requests.CLIENT)),
                to(METHODS, List.of("GET", "HEAD"))
                        .and(PATHS, List.of("/api/v1/items", "/api/v1/items/*"))
                        .and(HOSTS, List.of("api." + ns + ".svc.cluster.local", "api." + ns)),
                when("request.headers[x-tenant]", "tenant-a", "tenant-b"));
    }

    private static String namespace(Random r) {
        return MeshFixture.namespaceName(r.nextInt(NAMESPACE_UNIVERSE));
    }

    private static String principal(Random r) {
        return "cluster.local/ns/" + namespace(r) + "/sa/" + SERVICE_ACCOUNTS[r.nextInt(SERVICE_ACCOUNTS.length)];
    }

    private static List<String> principals(Random r, int n) {
        var out = new ArrayList<String>(n);
        for (int i = 0; i < n; i++) {
            out.add(principal(r));
        }
        return out;
    }

    private static String podCidr(Random r) {
        return "10." + r.nextInt(256) + ".0.0/16";
    }

    /** Documentation ranges (RFC 5737): never a pod address. */
    private static List<String> externalCidrs(Random r, int n) {
        var out = new ArrayList<String>(n);
        for (int i = 0; i < n; i++) {
            out.add(
                    switch (r.nextInt(3)) {
                        case 0 -> "203.0.113." + r.nextInt(256) + "/32";
                        case 1 -> "198.51.100." + (r.nextInt(8) * 32) + "/27";
                        default -> "192.0.2." + r.nextInt(256) + "/32";
                    });
        }
        return out;
    }

    private static List<String> paths(Random r, int n) {
        var out = new ArrayList<String>(n);
        for (int i = 0; i < n; i++) {
            String res = RESOURCES[r.nextInt(RESOURCES.length)];
            out.add(
                    switch (r.nextInt(4)) {
                        case 0 -> "/api/v" + (1 + r.nextInt(2)) + "/" + res + "/*";
                        case 1 -> "/api/v" + (1 + r.nextInt(2)) + "/" + res;
                        case 2 -> "/api/v2/{*}/" + res;
                        default -> "*/" + res + ".json";
                    });
        }
        return out;
    }

    private static List<String> pick(Random r, String[] from, int n) {
        var out = new ArrayList<String>(n);
        while (out.size() < n) {
            String v = from[r.nextInt(from.length)];
            if (!out.contains(v)) {
                out.add(v);
            }
        }
        return out;
    }
}
