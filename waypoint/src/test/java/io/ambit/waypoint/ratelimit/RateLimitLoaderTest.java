package io.ambit.waypoint.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.LoadError;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RateLimitLoaderTest {
    /** The article's EnvoyFilter, exactly as pasted. */
    static final String ARTICLE = """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata:
              name: rate-limit-filter
              namespace: production
            spec:
              configPatches:
                - applyTo: HTTP_FILTER
                  match:
                    context: SIDECAR_INBOUND
                    listener:
                      filterChain:
                        filter:
                          name: "envoy.filters.network.http_connection_manager"
                  patch:
                    operation: INSERT_BEFORE
                    value:
                      name: envoy.filters.http.local_ratelimit
                      typed_config:
                        "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                        type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                        value:
                          stat_prefix: rate_limit
                          token_bucket:
                            max_tokens: 100
                            tokens_per_fill: 100
                            fill_interval: 60s
                          filter_enabled:
                            runtime_key: rate_limit_enabled
                            default_value:
                              numerator: 100
                              denominator: HUNDRED
                          filter_enforced:
                            runtime_key: rate_limit_enforced
                            default_value:
                              numerator: 100
                              denominator: HUNDRED
            """;

    private static RateLimitLoader.Result load(String yaml) {
        return new RateLimitLoader("istio-system").text(yaml, "limits.yaml").result();
    }

    @Test
    void theArticlesEnvoyFilterIsAcceptedAsIs() {
        var r = load(ARTICLE);
        assertThat(r.errors()).isEmpty();
        assertThat(r.warnings()).isEmpty();
        var l = r.limits().getFirst();
        assertThat(l.name()).isEqualTo("EnvoyFilter production/rate-limit-filter");
        assertThat(l.namespace()).isEqualTo("production");
        assertThat(l.targets()).isEmpty();
        assertThat(l.meshWide()).isFalse();
        assertThat(l.bucket()).isEqualTo(new BucketSpec(100, 100, Duration.ofSeconds(60)));
        assertThat(l.enabled().always()).isTrue();
        assertThat(l.enforced().always()).isTrue();
        assertThat(l.status()).isEqualTo(429);
        assertThat(l.xRateLimitHeaders()).isFalse();
        assertThat(l.appliesTo("production", "payments", "waypoint")).isTrue();
        assertThat(l.appliesTo("staging", "payments", "waypoint")).isFalse();
    }

    @Test
    void theDirectTypeCamelCaseKeysAndEveryOptionAreRead() {
        var r = load("""
                apiVersion: networking.istio.io/v1
                kind: EnvoyFilter
                metadata: {name: limits, namespace: shop}
                spec:
                  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
                  configPatches:
                    - applyTo: HTTP_FILTER
                      match: {context: ANY}
                      patch:
                        operation: INSERT_FIRST
                        value:
                          name: envoy.filters.http.local_ratelimit
                          typedConfig:
                            "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                            statPrefix: http_local_rate_limiter
                            tokenBucket: {maxTokens: 10, fillInterval: 0.5s}
                            filterEnabled: {defaultValue: {numerator: 5000, denominator: TEN_THOUSAND}}
                            filterEnforced: {defaultValue: {numerator: 100}}
                            status: {code: 503}
                            enableXRatelimitHeaders: DRAFT_VERSION_03
                            localRateLimitPerDownstreamConnection: true
                            rateLimitedAsResourceExhausted: true
                            responseHeadersToAdd:
                              - append: false
                                header: {key: x-local-rate-limit, value: "true"}
                            requestHeadersToAddWhenNotEnforced:
                              - header: {key: x-limited, value: "1"}
                """);
        assertThat(r.errors()).isEmpty();
        var l = r.limits().getFirst();
        assertThat(l.bucket()).isEqualTo(new BucketSpec(10, 1, Duration.ofMillis(500)));
        assertThat(l.enabled()).isEqualTo(new Fraction(5000, 10_000));
        assertThat(l.status()).isEqualTo(503);
        assertThat(l.xRateLimitHeaders()).isTrue();
        assertThat(l.perConnection()).isTrue();
        assertThat(l.resourceExhausted()).isTrue();
        assertThat(l.responseHeaders()).containsExactly(Map.entry("x-local-rate-limit", "true"));
        assertThat(l.requestHeadersIfNotEnforced()).containsExactly(Map.entry("x-limited", "1"));
        assertThat(l.targets())
                .containsExactly(new LocalRateLimit.Target(LocalRateLimit.Target.Kind.GATEWAY, "waypoint"));
    }

    @Test
    void ambitsConciseShapeCountsAndEnforcesEveryRequest() {
        var r = load("""
                apiVersion: ambit.io/v1alpha1
                kind: LocalRateLimit
                metadata: {name: orders-limit, namespace: shop}
                spec:
                  targetRefs: [{kind: Service, name: orders}]
                  tokenBucket: {maxTokens: 5, tokensPerFill: 1, fillInterval: 1s}
                  xRateLimitHeaders: true
                  responseHeaders: {x-local-rate-limit: "true"}
                """);
        assertThat(r.errors()).isEmpty();
        var l = r.limits().getFirst();
        assertThat(l.name()).isEqualTo("LocalRateLimit shop/orders-limit");
        assertThat(l.enabled().always()).isTrue();
        assertThat(l.enforced().always()).isTrue();
        assertThat(l.appliesTo("shop", "orders", null)).isTrue();
        assertThat(l.appliesTo("shop", "payments", null)).isFalse();
    }

    @Test
    void otherKindsAreLeftToTheirLoadersAndRootNamespaceLimitsAreMeshWide() {
        var r = load("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: x, namespace: y}
                spec: {}
                ---
                apiVersion: ambit.io/v1alpha1
                kind: LocalRateLimit
                metadata: {name: global, namespace: istio-system}
                spec:
                  tokenBucket: {maxTokens: 1000, fillInterval: 1s}
                """);
        assertThat(r.errors()).isEmpty();
        assertThat(r.limits()).singleElement().satisfies(l -> {
            assertThat(l.meshWide()).isTrue();
            assertThat(l.appliesTo("anything", "any", null)).isTrue();
        });
    }

    @Test
    void aLimitThatCountsNothingLoadsWithAWarning() {
        var r = load(ARTICLE.replaceAll("(?s)\\n *filter_enabled:.*", "\n"));
        assertThat(r.errors()).isEmpty();
        assertThat(r.warnings()).singleElement().asString().contains("filter_enabled is absent or 0%");
        assertThat(r.limits().getFirst().enabled().never()).isTrue();
    }

    static Stream<Arguments> refused() {
        String p = "spec.configPatches[0]";
        String v = p + ".patch.value.typed_config.value";
        return Stream.of(
                Arguments.of(
                        "applyTo: HTTP_FILTER",
                        "applyTo: CLUSTER",
                        p + ".applyTo",
                        "is \"CLUSTER\" (expected: HTTP_FILTER; the only EnvoyFilter Ambit accepts inserts "
                                + "envoy.filters.http.local_ratelimit)"),
                Arguments.of(
                        "context: SIDECAR_INBOUND",
                        "context: SIDECAR_OUTBOUND",
                        p + ".match.context",
                        "is \"SIDECAR_OUTBOUND\" (expected: SIDECAR_INBOUND, GATEWAY or ANY; a waypoint limits the "
                                + "requests it receives)"),
                Arguments.of(
                        "operation: INSERT_BEFORE",
                        "operation: MERGE",
                        p + ".patch.operation",
                        "is \"MERGE\" (expected: INSERT_BEFORE, INSERT_AFTER or INSERT_FIRST; the limit runs at the "
                                + "waypoint's rate-limit stage, after authorization)"),
                Arguments.of(
                        "name: envoy.filters.http.local_ratelimit",
                        "name: envoy.filters.http.lua",
                        p + ".patch.value.name",
                        "is \"envoy.filters.http.lua\" (expected: envoy.filters.http.local_ratelimit)"),
                Arguments.of(
                        "v3.LocalRateLimit\n",
                        "v3.Lua\n",
                        p + ".patch.value.typed_config.type_url",
                        "is \"type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.Lua\" (expected: "
                                + "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit)"),
                Arguments.of(
                        "fill_interval: 60s",
                        "fill_interval: 10ms",
                        v + ".token_bucket.fill_interval",
                        "is \"10ms\" (expected: a duration from 50ms (Envoy's minimum) to 24h, such as 60s)"),
                Arguments.of(
                        "fill_interval: 60s",
                        "fill_interval: soon",
                        v + ".token_bucket.fill_interval",
                        "is \"soon\" (expected: a duration from 50ms (Envoy's minimum) to 24h, such as 60s)"),
                Arguments.of(
                        "max_tokens: 100",
                        "max_tokens: 0",
                        v + ".token_bucket.max_tokens",
                        "is \"0\" (expected: 1 to 4294967295)"),
                Arguments.of(
                        "max_tokens: 100",
                        "max_tokens: 4294967296",
                        v + ".token_bucket.max_tokens",
                        "is \"4294967296\" (expected: 1 to 4294967295)"),
                Arguments.of(
                        "denominator: HUNDRED\n              filter_enforced",
                        "denominator: PERCENT\n              filter_enforced",
                        v + ".filter_enabled.default_value.denominator",
                        "is \"PERCENT\" (expected: HUNDRED, TEN_THOUSAND or MILLION)"),
                Arguments.of(
                        "stat_prefix: rate_limit",
                        "stat_prefix: rate_limit\n              descriptors: []",
                        v + ".descriptors",
                        "is not supported by Ambit's local rate limit (expected: one token bucket per filter; "
                                + "descriptor buckets are not implemented)"),
                Arguments.of(
                        "stat_prefix: rate_limit",
                        "stat_prefix: rate_limit\n              stage: 1",
                        v + ".stage",
                        "is \"1\" (expected: 0; rate-limit stages are not implemented)"),
                Arguments.of(
                        "stat_prefix: rate_limit",
                        "stat_prefix: rate_limit\n              tokens_bucket: {}",
                        v + ".tokens_bucket",
                        null),
                Arguments.of(
                        "stat_prefix: rate_limit",
                        "stat_prefix: rate_limit\n              status: {code: 200}",
                        v + ".status.code",
                        "is \"200\" (expected: an HTTP status 400..599, such as 429)"),
                Arguments.of(
                        "  configPatches:",
                        "  workloadSelector: {labels: {app: api}}\n  configPatches:",
                        "spec.workloadSelector",
                        "selects workloads, which a waypoint ignores (expected: no selector for every request through "
                                + "the namespace's waypoints, or targetRefs to the waypoint Gateway or a Service)"),
                Arguments.of(
                        "  configPatches:",
                        "  targetRefs: [{kind: Deployment, name: api}]\n  configPatches:",
                        "spec.targetRefs[0]",
                        "is kind \"Deployment\" of group \"\" (expected: Gateway or GatewayClass of "
                                + "gateway.networking.k8s.io, or Service)"),
                Arguments.of(
                        "              token_bucket:\n                max_tokens: 100\n                tokens_per_fill: 100\n"
                                + "                fill_interval: 60s\n",
                        "",
                        v,
                        null));
    }

    @ParameterizedTest(name = "{1} is refused at {2}")
    @MethodSource("refused")
    void whatIsNotSupportedIsRefusedNamingTheField(String from, String to, String field, String message) {
        String yaml = ARTICLE.replace(from, to);
        assertThat(yaml).as("the test edits the article").isNotEqualTo(ARTICLE);
        var r = load(yaml);
        assertThat(r.limits()).isEmpty();
        assertThat(r.errors()).extracting(LoadError::object).contains("EnvoyFilter production/rate-limit-filter");
        assertThat(r.errors())
                .extracting(e -> e.field() == null ? "" : e.field())
                .anyMatch(f -> f.startsWith(field));
        if (message != null) {
            assertThat(r.errors())
                    .filteredOn(e -> field.equals(e.field()))
                    .extracting(LoadError::message)
                    .contains(message);
        }
    }

    @Test
    void aBadObjectDoesNotStopTheOthersAndDuplicatesAreRefused() {
        var r = load(ARTICLE + "---\n" + ARTICLE + "---\n" + """
                apiVersion: ambit.io/v1alpha1
                kind: LocalRateLimit
                metadata: {name: ok, namespace: shop}
                spec: {tokenBucket: {maxTokens: 1, fillInterval: 1s}}
                """);
        assertThat(r.limits())
                .extracting(LocalRateLimit::name)
                .containsExactly("EnvoyFilter production/rate-limit-filter", "LocalRateLimit shop/ok");
        assertThat(r.errors()).singleElement().asString().contains("is defined twice");
    }

    @Test
    void hostileYamlIsRefusedNotCrashed() {
        var deep = load("a: " + "[".repeat(10_000) + "]".repeat(10_000));
        assertThat(deep.ok()).isFalse();
        var bomb = new StringBuilder("a: &a [x, x]\n");
        for (int i = 0; i < 40; i++) {
            bomb.append("b")
                    .append(i)
                    .append(": &b")
                    .append(i)
                    .append(" [")
                    .append(i == 0 ? "*a" : "*b" + (i - 1))
                    .append(", ")
                    .append(i == 0 ? "*a" : "*b" + (i - 1))
                    .append("]\n");
        }
        var b = load(bomb.toString()); // an alias bomb is refused before it is expanded
        assertThat(b.errors())
                .singleElement()
                .extracting(LoadError::message)
                .asString()
                .startsWith("invalid YAML");
        assertThat(load("kind: EnvoyFilter\napiVersion: networking.istio.io/v1\nmetadata: {name: x}\nspec: [1]")
                        .ok())
                .isFalse();
        assertThat(List.of(load("{").errors().getFirst().message())).allMatch(m -> m.startsWith("invalid YAML"));
    }
}
