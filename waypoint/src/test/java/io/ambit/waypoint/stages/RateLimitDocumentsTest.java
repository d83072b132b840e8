package io.ambit.waypoint.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.waypoint.stages.RateLimitDocuments.RateLimitSet;
import io.ambit.xds.file.InvalidMeshFileException;
import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshExtension;
import org.junit.jupiter.api.Test;

/**
 * A mesh file carries the waypoint's rate limits: the article's EnvoyFilter as pasted and Ambit's
 * LocalRateLimit are read by the installed extension (found by ServiceLoader, as {@code ambit run} finds
 * it), their problems refuse the file with file:line and the field, and the limits travel in the state.
 */
class RateLimitDocumentsTest {
    static final String MESH = """
            mesh: {rootNamespace: istio-system}
            workloads:
            - {name: api-1, namespace: shop, workloadIps: ["127.0.7.1"]}
            ---
            # the article's rate limit, as pasted
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata:
              name: rate-limit-filter
              namespace: shop
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
                            default_value: {numerator: 100, denominator: HUNDRED}
                          filter_enforced:
                            runtime_key: rate_limit_enforced
                            default_value: {numerator: 100, denominator: HUNDRED}
            ---
            apiVersion: ambit.io/v1alpha1
            kind: LocalRateLimit
            metadata: {name: search-limit, namespace: shop}
            spec:
              targetRefs: [{kind: Service, name: search}]
              tokenBucket: {maxTokens: 5, tokensPerFill: 1, fillInterval: 2s}
            """;

    @Test
    void theExtensionIsInstalledForEveryMeshFileReader() {
        assertThat(MeshExtension.installed()).hasAtLeastOneElementOfType(RateLimitDocuments.class);
    }

    @Test
    void theArticlesEnvoyFilterAndALocalRateLimitTravelInTheState() throws Exception {
        var state = LocalMeshFile.parse(MESH, "shop.yaml");
        var limits = state.extension(RateLimitSet.class).orElseThrow().limits();
        assertThat(limits)
                .extracting(l -> l.name())
                .containsExactlyInAnyOrder("EnvoyFilter shop/rate-limit-filter", "LocalRateLimit shop/search-limit");
        var article = limits.stream()
                .filter(l -> l.name().startsWith("EnvoyFilter"))
                .findFirst()
                .orElseThrow();
        assertThat(article.bucket().maxTokens()).isEqualTo(100);
        assertThat(article.appliesTo("shop", "api", "waypoint")).isTrue();
        assertThat(article.appliesTo("other", "api", "waypoint")).isFalse();
    }

    @Test
    void aFileWithoutLimitsCarriesNone() throws Exception {
        var state = LocalMeshFile.parse(MESH.substring(0, MESH.indexOf("---")), "shop.yaml");
        assertThat(state.extension(RateLimitSet.class).orElseThrow().limits()).isEmpty();
    }

    @Test
    void aBadBucketRefusesTheFileWithItsLineAndField() {
        var text = MESH.replace("fill_interval: 60s", "fill_interval: 10ms");
        assertThatThrownBy(() -> LocalMeshFile.parse(text, "shop.yaml"))
                .isInstanceOf(InvalidMeshFileException.class)
                .hasMessageContaining("shop.yaml:32")
                .hasMessageContaining("EnvoyFilter shop/rate-limit-filter")
                .hasMessageContaining("fill_interval");
    }

    @Test
    void anotherEnvoyFilterIsRefusedNamingWhatIsNotSupported() {
        var text = MESH.replace("name: envoy.filters.http.local_ratelimit", "name: envoy.filters.http.lua");
        assertThatThrownBy(() -> LocalMeshFile.parse(text, "shop.yaml"))
                .isInstanceOf(InvalidMeshFileException.class)
                .hasMessageContaining("EnvoyFilter shop/rate-limit-filter")
                .hasMessageContaining("envoy.filters.http.lua");
    }

    @Test
    void aLocalRateLimitUnderAnotherApiGroupIsRefused() {
        var text = MESH.replace("ambit.io/v1alpha1", "networking.istio.io/v1");
        assertThatThrownBy(() -> LocalMeshFile.parse(text, "shop.yaml"))
                .isInstanceOf(InvalidMeshFileException.class)
                .hasMessageContaining("shop.yaml:40")
                .hasMessageContaining("expected: ambit.io/... for kind LocalRateLimit");
    }
}
