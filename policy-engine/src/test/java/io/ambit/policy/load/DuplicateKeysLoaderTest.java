package io.ambit.policy.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** A key written twice would let the second value win silently: such objects are refused. */
class DuplicateKeysLoaderTest {
    @Test
    void aPolicyWithADuplicateKeyIsRefusedNamingBothLines() {
        var r = new PolicyLoader(false).text("""
                        apiVersion: security.istio.io/v1
                        kind: AuthorizationPolicy
                        metadata: {name: p, namespace: foo}
                        spec:
                          action: DENY
                          rules: [{}]
                          action: ALLOW
                        """, "dup.yaml").result();
        assertThat(r.policies().authorizationPolicies()).isEmpty();
        assertThat(r.errors()).singleElement().satisfies(e -> {
            assertThat(e.line()).isEqualTo(7);
            assertThat(e.field()).isEqualTo("spec.action");
            assertThat(e.message()).contains("first at line 5");
        });
    }

    @Test
    void aMeshFileWithADuplicateKeyIsRefused() {
        assertThatThrownBy(() -> MeshConfigLoader.parse("trustDomain: a\ntrustDomain: b\n", "m.yaml"))
                .isInstanceOf(MeshConfigLoader.InvalidMeshConfigException.class)
                .hasMessageContaining("trustDomain")
                .hasMessageContaining("written twice");
    }
}
