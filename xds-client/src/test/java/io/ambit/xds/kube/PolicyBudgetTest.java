package io.ambit.xds.kube;

import static io.ambit.xds.kube.RefusedPolicyFailsClosedTest.allowed;
import static io.ambit.xds.kube.RefusedPolicyFailsClosedTest.publish;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.LoadError;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The policy objects parsed together are bounded: beyond the budget the NEWEST are refused by name (failing closed
 * on their own targets), and the older ones keep applying. Without the bound, enough text from any tenant made the
 * whole parse fail (the mesh-file parser's 64 Mi limit names no object), so no change applied again and a waypoint
 * starting then served no policy at all.
 */
class PolicyBudgetTest {
    static Map<String, Object> policy(String name, String created, String spec) throws Exception {
        String json = "{\"apiVersion\":\"security.istio.io/v1\",\"kind\":\"AuthorizationPolicy\",\"metadata\":"
                + "{\"name\":\"" + name + "\",\"namespace\":\"shop\",\"resourceVersion\":\"1\",\"creationTimestamp\":\""
                + created + "\"},\"spec\":" + spec + "}";
        return KubeJson.object(json, "a test policy");
    }

    @Test
    void overTheBudgetTheNewestObjectsAreRefusedByNameWhileTheOldestKeepApplying() throws Exception {
        var objects = new ArrayList<Map<String, Object>>();
        objects.add(policy(
                "deny-admin",
                "2026-01-01T00:00:00Z",
                "{\"targetRefs\":[{\"kind\":\"Service\",\"group\":\"\",\"name\":\"web\"}],\"action\":\"DENY\","
                        + "\"rules\":[{\"to\":[{\"operation\":{\"paths\":[\"/admin\"]}}]}]}"));
        var paths = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            paths.append(i == 0 ? "" : ",").append("\"/p").append(i).append('"');
        }
        for (int i = 0; i < 5; i++) {
            objects.add(policy(
                    "flood-" + i,
                    "2026-02-0" + (i + 1) + "T00:00:00Z",
                    "{\"targetRefs\":[{\"kind\":\"Service\",\"group\":\"\",\"name\":\"tenant\"}],\"rules\":[{\"to\":"
                            + "[{\"operation\":{\"paths\":[" + paths + "]}}]}]}"));
        }
        try (var source = new KubePolicySource("test", KubePolicySource.Settings.DEFAULT, List.of(), null, 4_000)) {
            var state = publish(source, objects);
            assertThat(source.refused())
                    .extracting(LoadError::object)
                    .as("the newest objects beyond 4,000 characters, by name")
                    .contains("AuthorizationPolicy shop/flood-4")
                    .doesNotContain("AuthorizationPolicy shop/deny-admin");
            assertThat(source.refused()).anySatisfy(e -> assertThat(e.message()).contains("exceed 4000 characters"));
            assertThat(allowed(state, "web", "/admin", "cluster.local/ns/shop/sa/client"))
                    .as("the oldest policy still applies")
                    .isFalse();
            assertThat(allowed(state, "web", "/x", "cluster.local/ns/shop/sa/client"))
                    .isTrue();
            assertThat(state.policies().policies().authorizationPolicies())
                    .filteredOn(p -> p.meta().name().equals("flood-4"))
                    .as("the refused ALLOW stands in as allow-nothing on its own target")
                    .singleElement()
                    .satisfies(p -> assertThat(p.rules()).isEmpty());
        }
    }
}
