package io.ambit.policy.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.MeshConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyStoreTest {
    private static final AccessRequest PLAINTEXT = AccessRequest.builder()
            .sourceIp("10.0.0.1")
            .destination("foo", Map.of("app", "a"))
            .port(80)
            .build();

    @Test
    void publishesWholeSnapshotsAndTellsListeners() {
        var store = new PolicyStore(MeshConfig.DEFAULT, Clock.systemUTC());
        var seen = new ArrayList<PolicySnapshot>();
        store.onUpdate(seen::add);
        var before = store.current();
        assertThat(before.decideL4(PLAINTEXT).verdict()).isEqualTo(Decision.Verdict.ALLOW);

        var denyAll = new PolicyLoader(false).text("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-nothing, namespace: foo}
                spec: {}
                """, "x").result().policies();
        var after = store.update(denyAll, MeshConfig.DEFAULT);

        assertThat(store.current()).isSameAs(after).isNotSameAs(before);
        assertThat(seen).containsExactly(after);
        assertThat(after.decideL4(PLAINTEXT).verdict()).isEqualTo(Decision.Verdict.DENY);
        // a reader holding the old snapshot keeps a consistent view
        assertThat(before.decideL4(PLAINTEXT).verdict()).isEqualTo(Decision.Verdict.ALLOW);
    }
}
