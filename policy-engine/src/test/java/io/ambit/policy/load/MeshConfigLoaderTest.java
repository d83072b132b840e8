package io.ambit.policy.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.path.PathNormalization;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class MeshConfigLoaderTest {
    @Test
    void defaultsWhenEmpty() throws Exception {
        assertThat(MeshConfigLoader.parse("", "m.yaml")).isEqualTo(MeshConfig.DEFAULT);
    }

    @Test
    void readsEverySetting() throws Exception {
        var m = MeshConfigLoader.parse("""
                rootNamespace: mesh-root
                trustDomain: td.example
                trustDomainAliases: [old.example]
                pathNormalization: MERGE_SLASHES
                extensionProviders: [authz, {name: other, envoyExtAuthzHttp: {service: x, port: 9000}}]
                extendedConditions: true
                timeZone: Europe/Berlin
                """, "m.yaml");
        assertThat(m.rootNamespace()).isEqualTo("mesh-root");
        assertThat(m.trustDomainAliases()).containsExactly("old.example");
        assertThat(m.pathNormalization()).isEqualTo(PathNormalization.MERGE_SLASHES);
        assertThat(m.extensionProviders()).containsExactly("authz", "other");
        assertThat(m.hasProvider("missing")).isFalse();
        assertThat(m.extendedConditions()).isTrue();
        assertThat(m.timeZone()).isEqualTo(ZoneId.of("Europe/Berlin"));
    }

    @Test
    void acceptsIstioMeshConfigWrapper() throws Exception {
        var m = MeshConfigLoader.parse("meshConfig:\n  pathNormalization: {normalization: NONE}\n", "m.yaml");
        assertThat(m.pathNormalization()).isEqualTo(PathNormalization.NONE);
        assertThat(m.hasProvider("any")).isTrue();
    }

    @Test
    void reportsEveryBadSettingByField() {
        assertThatThrownBy(() ->
                        MeshConfigLoader.parse("pathNormalization: FANCY\ntimeZone: Mars/Base\nrootNs: x\n", "m.yaml"))
                .isInstanceOfSatisfying(MeshConfigLoader.InvalidMeshConfigException.class, e -> assertThat(e.errors())
                        .extracting(LoadError::field)
                        .containsExactlyInAnyOrder("pathNormalization", "timeZone", "rootNs"));
    }
}
