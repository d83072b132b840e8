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
 * Ambit's concise limit, for a Service or a waypoint without an EnvoyFilter:
 *
 * <pre>
 * apiVersion: ambit.io/v1alpha1
 * kind: LocalRateLimit
 * metadata: {name: orders-limit, namespace: shop}
 * spec:
 *   targetRefs: [{kind: Service, name: orders}]       # none: every service of the namespace
 *   tokenBucket: {maxTokens: 100, tokensPerFill: 10, fillInterval: 1s}
 *   xRateLimitHeaders: true                            # optional
 *   perConnection: false                               # optional
 *   responseHeaders: {x-local-rate-limit: "true"}      # optional, on the 429
 * </pre>
 *
 * Unlike the EnvoyFilter, it counts and enforces every request (Envoy's filter_enabled/enforced default
 * to none, a common surprise).
 */
final class AmbitLimitReader {
    private static final Set<String> SPEC =
            Set.of("targetRefs", "targetRef", "tokenBucket", "xRateLimitHeaders", "perConnection", "responseHeaders");
    private static final Set<String> BUCKET = Set.of("maxTokens", "tokensPerFill", "fillInterval");

    private AmbitLimitReader() {}

    static LocalRateLimit read(
            String name, String ns, String root, Map<String, YamlNode> spec, YamlNode specNode, Problems p) {
        int before = p.errors().size();
        Fields.map(specNode, p, SPEC);
        var targets = TargetRefsReader.read(spec, ns, root, p);
        var b = spec.get("tokenBucket");
        BucketSpec bucket = null;
        if (b == null || b.isNull()) {
            p.at(specNode, ".tokenBucket", "is missing (expected: maxTokens, tokensPerFill and fillInterval)");
        } else {
            var f = Fields.map(b, p, BUCKET);
            String range = "1 to " + BucketSpec.MAX;
            if (!f.containsKey("maxTokens")) {
                p.at(b, ".maxTokens", "is missing (expected: " + range + ")");
            }
            if (!f.containsKey("fillInterval")) {
                p.at(b, ".fillInterval", "is missing (expected: a duration of at least 50ms, such as 1s)");
            }
            long max = Values.number(f.get("maxTokens"), p, 1, BucketSpec.MAX, 0, range);
            long perFill = Values.number(f.get("tokensPerFill"), p, 1, BucketSpec.MAX, 1, range);
            Duration interval = f.containsKey("fillInterval")
                    ? Values.duration(
                            f.get("fillInterval"),
                            p,
                            BucketSpec.MIN_INTERVAL,
                            "a duration from 50ms to 24h, such as 1s")
                    : null;
            if (max > 0 && interval != null) {
                bucket = new BucketSpec(max, perFill, interval);
            }
        }
        var headers = new ArrayList<Map.Entry<String, String>>();
        for (var e : Fields.map(spec.get("responseHeaders"), p, null).entrySet()) {
            String h = Values.headerName(e.getValue(), e.getKey(), p);
            String v = Fields.string(e.getValue(), p);
            if (v != null && !Values.safeValue(v)) {
                p.at(e.getValue(), "has a control character (expected: a header value on one line)");
            } else if (h != null && v != null) {
                headers.add(Map.entry(h, v));
            }
        }
        boolean xHeaders = Values.bool(spec.get("xRateLimitHeaders"), p);
        boolean perConnection = Values.bool(spec.get("perConnection"), p);
        if (p.errors().size() > before || bucket == null) {
            return null;
        }
        return new LocalRateLimit(
                name,
                ns,
                targets,
                targets.isEmpty() && ns.equals(root),
                false,
                bucket,
                Fraction.ALWAYS,
                Fraction.ALWAYS,
                429,
                xHeaders,
                perConnection,
                false,
                headers,
                List.of());
    }
}
