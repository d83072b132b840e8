package io.ambit.bench.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.PeerAuthentication;
import io.ambit.policy.engine.PolicyCompiler;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MeshFixtureTest {

    @Test
    void loadingTheYamlGivesBackTheGeneratedPolicies() {
        var fixture = MeshFixture.generate(1_000);
        var loaded = fixture.load();

        assertThat(loaded.errors()).isEmpty();
        assertThat(loaded.skipped()).isZero();
        assertThat(loaded.policies().authorizationPolicies()).hasSize(1_000 + MeshFixture.MESH_WIDE_POLICIES);
        assertThat(withoutOrigin(loaded.policies().authorizationPolicies()))
                .isEqualTo(withoutOrigin(fixture.policySet().authorizationPolicies()));
        assertThat(peerWithoutOrigin(loaded.policies().peerAuthentications()))
                .isEqualTo(peerWithoutOrigin(fixture.policySet().peerAuthentications()));
    }

    @Test
    void everyPolicyHasTenRules() {
        var fixture = MeshFixture.generate(1_000);

        assertThat(fixture.rules()).isEqualTo(fixture.authorizationPolicies() * MeshFixture.RULES);
    }

    @Test
    void theSameSizeGivesTheSameMesh() {
        assertThat(MeshFixture.generate(300).yaml())
                .isEqualTo(MeshFixture.generate(300).yaml());
    }

    @Test
    void theTargetNamespaceIsTheSameInEveryMeshSize() {
        assertThat(target(MeshFixture.generate(10))).isEqualTo(target(MeshFixture.generate(10_000)));
    }

    @ParameterizedTest(name = "a mesh of {0} namespace policies decides the representative requests as intended")
    @ValueSource(ints = {10, 15, 1_000})
    void representativeRequestsTakeTheirIntendedPath(int policies) {
        var snapshot = PolicyCompiler.compile(MeshFixture.generate(policies).policySet(), MeshFixture.MESH);

        Requests.check(snapshot); // throws with the decision's explanation when a path is wrong
        assertThat(snapshot.unenforced()).isEmpty();
    }

    private static List<AuthorizationPolicy> target(MeshFixture f) {
        return withoutOrigin(f.policySet().authorizationPolicies().stream()
                .filter(p -> p.meta().namespace().equals(MeshFixture.TARGET_NAMESPACE))
                .toList());
    }

    /** The load order and file position differ by construction; everything else must be equal. */
    private static List<AuthorizationPolicy> withoutOrigin(List<AuthorizationPolicy> ps) {
        return ps.stream()
                .map(p -> new AuthorizationPolicy(
                        new io.ambit.policy.crd.PolicyMeta(
                                p.meta().name(),
                                p.meta().namespace(),
                                p.meta().annotations(),
                                p.meta().created(),
                                0,
                                ""),
                        p.selector(),
                        p.targetRefs(),
                        p.action(),
                        p.provider(),
                        p.rules()))
                .toList();
    }

    private static List<String> peerWithoutOrigin(List<PeerAuthentication> ps) {
        return ps.stream()
                .map(p -> p.meta().ref() + " " + p.selector() + " " + p.mode() + " " + p.portLevelMtls())
                .toList();
    }
}
