package io.ambit.waypoint.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.ExtensionProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code examples/policies/ext-authz-and-jwt} loads with every loader, as a waypoint reads it. */
class ExamplePoliciesTest {
    private static final Path EXAMPLE = Path.of("..", "examples", "policies", "ext-authz-and-jwt");

    @Test
    void theExampleLoadsWithEveryLoader() throws Exception {
        String policies = Files.readString(EXAMPLE.resolve("policies.yaml"));
        var p = new PolicyLoader(false).text(policies, "policies.yaml").result();
        assertThat(p.errors()).isEmpty();
        assertThat(p.policies().authorizationPolicies()).hasSize(2);
        assertThat(p.policies().requestAuthentications()).hasSize(1);

        var limits = new RateLimitLoader("istio-system")
                .text(policies, "policies.yaml")
                .result();
        assertThat(limits.errors()).isEmpty();
        assertThat(limits.limits())
                .extracting(LocalRateLimit::name)
                .containsExactly("EnvoyFilter shop/rate-limit-filter", "LocalRateLimit shop/search-limit");

        var mesh = MeshConfigLoader.load(EXAMPLE.resolve("mesh.yaml"));
        assertThat(mesh.provider("external-authz")).get().isInstanceOf(ExtensionProvider.ExtAuthzHttp.class);
    }

    @Test
    void theSearchLimitAnswersTheSixthQuickRequestWith429() throws Exception {
        var ticker = new FakeTicker();
        var limits = new RateLimits(ticker, Sampler.RANDOM);
        limits.update(new RateLimitLoader("istio-system")
                .text(Files.readString(EXAMPLE.resolve("policies.yaml")), "policies.yaml")
                .result()
                .limits());
        for (int i = 0; i < 5; i++) {
            assertThat(limits.check("shop", "search", "waypoint", null).allowed())
                    .isTrue();
        }
        var sixth = limits.check("shop", "search", "waypoint", null);
        assertThat(sixth.status()).isEqualTo(429);
        assertThat(sixth.responseHeaders())
                .extracting(java.util.Map.Entry::getKey)
                .containsExactly("x-local-rate-limit");
        assertThat(sixth.rateLimitHeaders())
                .extracting(java.util.Map.Entry::getKey)
                .isEqualTo(List.of("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"));
    }
}
