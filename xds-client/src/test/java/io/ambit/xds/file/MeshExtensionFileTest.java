package io.ambit.xds.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.load.LoadError;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.mesh.MeshExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A mesh file carries documents of kinds an extension reads (the waypoint's rate limits): accepted only
 * with their apiVersion, read by the extension, refused with its errors, and carried in the state.
 */
class MeshExtensionFileTest {
    /** The value an extension reads: the names of its documents. */
    record Limits(List<String> names) {}

    /** Reads {@code kind: Limit} (example.io/) documents; a {@code bad: true} spec is an error at its line. */
    static class LimitExtension implements MeshExtension<Limits> {
        @Override
        public Class<Limits> type() {
            return Limits.class;
        }

        @Override
        public Map<String, String> kinds() {
            return Map.of("Limit", "example.io/");
        }

        @Override
        public Result<Limits> read(String text, String fileName, MeshConfig mesh) {
            var names = new ArrayList<String>();
            var errors = new ArrayList<LoadError>();
            String[] lines = text.split("\n");
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].startsWith("metadata: {name: ")) {
                    names.add(mesh.rootNamespace() + ":" + lines[i].substring(17, lines[i].indexOf('}')));
                }
                if (lines[i].contains("bad: true")) {
                    errors.add(new LoadError(fileName, i + 1, "Limit", "spec.bad", "is true (expected: false)"));
                }
            }
            return new Result<>(new Limits(names), errors, List.of());
        }
    }

    static final String MESH = """
            mesh: {rootNamespace: istio-system}
            workloads:
            - {name: a, namespace: default, workloadIps: ["127.0.1.1"]}
            ---
            apiVersion: example.io/v1
            kind: Limit
            metadata: {name: one}
            spec: {bad: false}
            """;

    @Test
    void anExtensionsDocumentsAreReadAndCarriedInTheState() throws Exception {
        var state = LocalMeshFile.parse(MESH, "m.yaml", List.of(new LimitExtension()));
        assertThat(state.extension(Limits.class)).contains(new Limits(List.of("istio-system:one")));
        assertThat(state.workloads()).hasSize(1);
    }

    @Test
    void withoutTheExtensionTheKindIsRefusedByName() {
        assertThatThrownBy(() -> LocalMeshFile.parse(MESH, "m.yaml", List.of()))
                .isInstanceOf(InvalidMeshFileException.class)
                .hasMessageContaining("m.yaml:6")
                .hasMessageContaining("is \"Limit\"")
                .hasMessageContaining("expected: AuthorizationPolicy, PeerAuthentication or RequestAuthentication");
    }

    @Test
    void theExtensionsKindsAreNamedInTheMessageForAnUnknownKind() {
        var text = MESH.replace("kind: Limit", "kind: Limitt");
        assertThatThrownBy(() -> LocalMeshFile.parse(text, "m.yaml", List.of(new LimitExtension())))
                .hasMessageContaining("RequestAuthentication, Limit;");
    }

    @Test
    void anotherApiVersionIsRefused() {
        var text = MESH.replace("example.io/v1", "networking.istio.io/v1");
        assertThatThrownBy(() -> LocalMeshFile.parse(text, "m.yaml", List.of(new LimitExtension())))
                .hasMessageContaining("m.yaml:5")
                .hasMessageContaining("expected: example.io/... for kind Limit");
    }

    @Test
    void theExtensionsErrorsRefuseTheFileWithTheirLines() {
        var text = MESH.replace("bad: false", "bad: true");
        assertThatThrownBy(() -> LocalMeshFile.parse(text, "m.yaml", List.of(new LimitExtension())))
                .isInstanceOf(InvalidMeshFileException.class)
                .satisfies(e -> assertThat(((InvalidMeshFileException) e).errors())
                        .containsExactly(new LoadError("m.yaml", 8, "Limit", "spec.bad", "is true (expected: false)")));
    }

    @Test
    void anExtensionThatThrowsRefusesTheFileInsteadOfDroppingItsObjects() {
        MeshExtension<Limits> broken = new LimitExtension() {
            @Override
            public Result<Limits> read(String text, String fileName, MeshConfig mesh) {
                throw new IllegalStateException("bug");
            }
        };
        assertThatThrownBy(() -> LocalMeshFile.parse(MESH, "m.yaml", List.of(broken)))
                .isInstanceOf(InvalidMeshFileException.class)
                .hasMessageContaining("bug");
    }

    @Test
    void aStateWithoutTheExtensionHasNoValueAndNothingIsInstalledInThisModule() throws Exception {
        var state = LocalMeshFile.parse(MESH.substring(0, MESH.indexOf("---")), "m.yaml");
        assertThat(state.extension(Limits.class)).isEmpty();
        assertThat(MeshExtension.installed()).isEmpty();
    }
}
