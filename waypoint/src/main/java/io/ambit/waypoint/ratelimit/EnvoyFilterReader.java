package io.ambit.waypoint.ratelimit;

import io.ambit.policy.load.Fields;
import io.ambit.policy.load.Problems;
import io.ambit.policy.load.YamlNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one EnvoyFilter shape Ambit accepts (seed-extensions.md): HTTP_FILTER patches that insert
 * {@code envoy.filters.http.local_ratelimit}, as the article pastes it. Anything else in an EnvoyFilter is
 * refused with the field that is not supported, so nothing is silently ignored.
 */
final class EnvoyFilterReader {
    static final String FILTER = "envoy.filters.http.local_ratelimit";
    static final String CONFIG_TYPE =
            "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
    private static final Set<String> TYPED_STRUCTS =
            Set.of("type.googleapis.com/udpa.type.v1.TypedStruct", "type.googleapis.com/xds.type.v3.TypedStruct");
    private static final Set<String> HCM =
            Set.of("envoy.filters.network.http_connection_manager", "envoy.http_connection_manager");
    private static final Set<String> CONTEXTS = Set.of("SIDECAR_INBOUND", "GATEWAY", "ANY");
    private static final Set<String> OPERATIONS = Set.of("INSERT_BEFORE", "INSERT_AFTER", "INSERT_FIRST");

    private static final List<String> LOCAL_RATE_LIMIT = List.of(
            "stat_prefix",
            "token_bucket",
            "filter_enabled",
            "filter_enforced",
            "status",
            "response_headers_to_add",
            "request_headers_to_add_when_not_enforced",
            "enable_x_ratelimit_headers",
            "local_rate_limit_per_downstream_connection",
            "rate_limited_as_resource_exhausted",
            "stage");
    private static final Map<String, String> NOT_IMPLEMENTED = Map.of(
            "descriptors", "expected: one token bucket per filter; descriptor buckets are not implemented",
            "rate_limits", "expected: one token bucket per filter; descriptor buckets are not implemented",
            "vh_rate_limits", "expected: one token bucket per filter; descriptor buckets are not implemented",
            "always_consume_default_token_bucket", "it only matters with descriptors",
            "max_dynamic_descriptors", "it only matters with descriptors",
            "local_cluster_rate_limit",
                    "expected: a limit per waypoint; sharing a limit across a cluster is not implemented",
            "request_headers_to_add_when_not_enforced_v2", "not an Envoy field");

    private EnvoyFilterReader() {}

    static List<LocalRateLimit> read(
            String ref,
            String namespace,
            String root,
            Map<String, YamlNode> spec,
            YamlNode specNode,
            Problems p,
            List<String> warnings) {
        if (spec.containsKey("workloadSelector")) {
            p.at(
                    spec.get("workloadSelector"),
                    "selects workloads, which a waypoint ignores (expected: no selector for "
                            + "every request through the namespace's waypoints, or targetRefs to the waypoint "
                            + "Gateway or a Service)");
        }
        var targets = TargetRefsReader.read(spec, namespace, root, p);
        var patches = Fields.listOrNull(spec.get("configPatches"), p);
        if (patches == null || patches.isEmpty()) {
            p.at(specNode, ".configPatches", "is missing (expected: a patch inserting " + FILTER + ")");
            return List.of();
        }
        var out = new ArrayList<LocalRateLimit>();
        for (int i = 0; i < patches.size(); i++) {
            var limit = patch(
                    patches.get(i), ref + (patches.size() > 1 ? "#" + i : ""), namespace, root, targets, p, warnings);
            if (limit != null) {
                out.add(limit);
            }
        }
        return out;
    }

    private static LocalRateLimit patch(
            YamlNode n,
            String name,
            String ns,
            String root,
            List<LocalRateLimit.Target> targets,
            Problems p,
            List<String> warnings) {
        int before = p.errors().size();
        var f = Fields.map(n, p, Set.of("applyTo", "match", "patch"));
        String applyTo = Fields.string(f.get("applyTo"), p);
        if (!"HTTP_FILTER".equals(applyTo)) {
            p.at(
                    f.get("applyTo") != null ? f.get("applyTo") : n,
                    "is " + (applyTo == null ? "missing" : "\"" + applyTo + "\"")
                            + " (expected: HTTP_FILTER; the only EnvoyFilter Ambit accepts inserts " + FILTER + ")");
        }
        match(f.get("match"), p);
        var patch = Fields.map(f.get("patch"), p, Set.of("operation", "value", "filterClass"));
        String op = Fields.string(patch.get("operation"), p);
        if (op == null || !OPERATIONS.contains(op)) {
            p.at(
                    patch.get("operation") != null ? patch.get("operation") : n,
                    "is " + (op == null ? "missing" : "\"" + op + "\"")
                            + " (expected: INSERT_BEFORE, INSERT_AFTER or INSERT_FIRST; the limit runs at the waypoint's "
                            + "rate-limit stage, after authorization)");
        }
        var value = Fields.map(patch.get("value"), p, Set.of("name", "typed_config", "typedConfig"));
        String filter = Fields.string(value.get("name"), p);
        if (!FILTER.equals(filter)) {
            p.at(
                    value.get("name") != null ? value.get("name") : n,
                    "is " + (filter == null ? "missing" : "\"" + filter + "\"") + " (expected: " + FILTER + ")");
        }
        YamlNode typed = value.containsKey("typed_config") ? value.get("typed_config") : value.get("typedConfig");
        YamlNode config = config(typed, n, p);
        if (p.errors().size() > before || config == null) {
            return null;
        }
        return LocalRateLimitReader.read(name, ns, root, targets, config, p, warnings);
    }

    /** The match must describe the waypoint's HTTP connection manager, or nothing more specific. */
    private static void match(YamlNode n, Problems p) {
        if (n == null || n.isNull()) {
            return;
        }
        var m = Fields.map(n, p, Set.of("context", "listener", "proxy"));
        String ctx = Fields.string(m.get("context"), p);
        if (ctx != null && !CONTEXTS.contains(ctx)) {
            p.at(
                    m.get("context"),
                    "is \"" + ctx + "\" (expected: SIDECAR_INBOUND, GATEWAY or ANY; a waypoint "
                            + "limits the requests it receives)");
        }
        Fields.map(m.get("proxy"), p, Set.of("proxyVersion", "metadata")); // accepted: Envoy versions do not apply
        var listener = Fields.map(m.get("listener"), p, Set.of("filterChain"));
        var chain = Fields.map(listener.get("filterChain"), p, Set.of("filter"));
        var filter = Fields.map(chain.get("filter"), p, Set.of("name", "subFilter"));
        String hcm = Fields.string(filter.get("name"), p);
        if (hcm != null && !HCM.contains(hcm)) {
            p.at(filter.get("name"), "is \"" + hcm + "\" (expected: envoy.filters.network.http_connection_manager)");
        }
        Fields.map(filter.get("subFilter"), p, Set.of("name"));
    }

    /** The LocalRateLimit message: in a TypedStruct's {@code value}, or inline under its own {@code @type}. */
    private static YamlNode config(YamlNode typed, YamlNode at, Problems p) {
        if (typed == null || !typed.isMap()) {
            p.at(typed != null ? typed : at, "typed_config is missing (expected: a map with @type)");
            return null;
        }
        var e = typed.entries();
        String type = e.get("@type") != null ? Fields.string(e.get("@type"), p) : null;
        if (type != null && TYPED_STRUCTS.contains(type)) {
            var ts = Fields.map(typed, p, Set.of("@type", "type_url", "value"));
            String url = Fields.string(ts.get("type_url"), p);
            if (!CONFIG_TYPE.equals(url)) {
                p.at(
                        ts.get("type_url") != null ? ts.get("type_url") : typed,
                        "is " + (url == null ? "missing" : "\"" + url + "\"") + " (expected: " + CONFIG_TYPE + ")");
                return null;
            }
            if (ts.get("value") == null || !ts.get("value").isMap()) {
                p.at(typed, ".value", "is missing (expected: the LocalRateLimit settings)");
                return null;
            }
            return ts.get("value");
        }
        if (CONFIG_TYPE.equals(type)) {
            return typed;
        }
        p.at(
                e.get("@type") != null ? e.get("@type") : typed,
                "is " + (type == null ? "missing" : "\"" + type + "\"") + " (expected: " + CONFIG_TYPE
                        + ", or a TypedStruct carrying it)");
        return null;
    }

    /** Reads the {@code LocalRateLimit} message itself. */
    static final class LocalRateLimitReader {
        private LocalRateLimitReader() {}

        static LocalRateLimit read(
                String name,
                String ns,
                String root,
                List<LocalRateLimit.Target> targets,
                YamlNode config,
                Problems p,
                List<String> warnings) {
            int before = p.errors().size();
            var supported = new ArrayList<>(LOCAL_RATE_LIMIT);
            supported.add("@type");
            var f = Values.envoyMap(config, p, supported, NOT_IMPLEMENTED);
            String stat = Fields.string(f.get("stat_prefix"), p);
            if (stat == null || stat.isEmpty()) {
                p.at(config, ".stat_prefix", "is missing (expected: a name for the filter's stats, as Envoy requires)");
            }
            var bucket = bucket(f.get("token_bucket"), config, p);
            var enabled = fraction(f.get("filter_enabled"), p);
            var enforced = fraction(f.get("filter_enforced"), p);
            int status = 429;
            if (f.get("status") != null) {
                var s = Values.envoyMap(f.get("status"), p, List.of("code"), Map.of());
                status = (int) Values.number(s.get("code"), p, 400, 599, 429, "an HTTP status 400..599, such as 429");
            }
            String headersMode = Fields.string(f.get("enable_x_ratelimit_headers"), p);
            if (headersMode != null && !headersMode.equals("OFF") && !headersMode.equals("DRAFT_VERSION_03")) {
                p.at(
                        f.get("enable_x_ratelimit_headers"),
                        "is \"" + headersMode + "\" (expected: OFF or DRAFT_VERSION_03)");
            }
            Values.number(f.get("stage"), p, 0, 0, 0, "0; rate-limit stages are not implemented");
            var response = Values.headerOptions(f.get("response_headers_to_add"), p);
            var request = Values.headerOptions(f.get("request_headers_to_add_when_not_enforced"), p);
            boolean perConnection = Values.bool(f.get("local_rate_limit_per_downstream_connection"), p);
            boolean exhausted = Values.bool(f.get("rate_limited_as_resource_exhausted"), p);
            if (p.errors().size() > before || bucket == null) {
                return null;
            }
            if (enabled.never()) {
                warnings.add(name + ": filter_enabled is absent or 0%, so no request is counted (as in Envoy)");
            } else if (enforced.never()) {
                warnings.add(name + ": filter_enforced is absent or 0%, so requests over the limit are only marked "
                        + "(as in Envoy)");
            }
            return new LocalRateLimit(
                    name,
                    ns,
                    targets,
                    targets.isEmpty() && ns.equals(root),
                    targets.isEmpty(),
                    bucket,
                    enabled,
                    enforced,
                    status,
                    "DRAFT_VERSION_03".equals(headersMode),
                    perConnection,
                    exhausted,
                    response,
                    request);
        }

        private static BucketSpec bucket(YamlNode n, YamlNode parent, Problems p) {
            if (n == null || n.isNull()) {
                p.at(parent, ".token_bucket", "is missing (expected: max_tokens, tokens_per_fill and fill_interval)");
                return null;
            }
            var f = Values.envoyMap(n, p, List.of("max_tokens", "tokens_per_fill", "fill_interval"), Map.of());
            if (!f.containsKey("max_tokens")) {
                p.at(n, ".max_tokens", "is missing (expected: 1 to " + BucketSpec.MAX + ")");
            }
            if (!f.containsKey("fill_interval")) {
                p.at(n, ".fill_interval", "is missing (expected: a duration of at least 50ms, such as 60s)");
            }
            String range = "1 to " + BucketSpec.MAX;
            long max = Values.number(f.get("max_tokens"), p, 1, BucketSpec.MAX, 0, range);
            long perFill = Values.number(f.get("tokens_per_fill"), p, 1, BucketSpec.MAX, 1, range);
            Duration interval = f.containsKey("fill_interval")
                    ? Values.duration(
                            f.get("fill_interval"),
                            p,
                            BucketSpec.MIN_INTERVAL,
                            "a duration from 50ms (Envoy's minimum) to 24h, such as 60s")
                    : null;
            return max > 0 && interval != null ? new BucketSpec(max, perFill, interval) : null;
        }

        /** {@code {runtime_key, default_value: {numerator, denominator}}}; absent means never (Envoy). */
        private static Fraction fraction(YamlNode n, Problems p) {
            if (n == null || n.isNull()) {
                return Fraction.NEVER;
            }
            var f = Values.envoyMap(n, p, List.of("runtime_key", "default_value"), Map.of());
            Fields.string(f.get("runtime_key"), p); // Ambit has no runtime: the default value is the value
            var d = Values.envoyMap(f.get("default_value"), p, List.of("numerator", "denominator"), Map.of());
            long numerator = Values.number(d.get("numerator"), p, 0, BucketSpec.MAX, 0, "a whole number >= 0");
            String den = d.get("denominator") == null ? "HUNDRED" : Fields.string(d.get("denominator"), p);
            long denominator =
                    switch (den == null ? "HUNDRED" : den) {
                        case "HUNDRED" -> 100;
                        case "TEN_THOUSAND" -> 10_000;
                        case "MILLION" -> 1_000_000;
                        default -> {
                            p.at(
                                    d.get("denominator"),
                                    "is \"" + den + "\" (expected: HUNDRED, TEN_THOUSAND or MILLION)");
                            yield 100;
                        }
                    };
            return new Fraction(numerator, denominator);
        }
    }
}
