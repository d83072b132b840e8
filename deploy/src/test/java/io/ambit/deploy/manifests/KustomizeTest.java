package io.ambit.deploy.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.ambit.deploy.Tools;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kustomizations: every manifest belongs to one, they use only fields kustomize v2 knows (Debian's
 * kubectl 1.20 builds them as current kubectl does), and {@code kubectl kustomize} builds each into
 * documents the strict Kubernetes model accepts.
 */
class KustomizeTest {
    static final List<String> KUSTOMIZATIONS =
            List.of("kustomization.yaml", "waypoint/kustomization.yaml", "observability/kustomization.yaml");

    /** Kustomization fields every kustomize since v2 reads the same way. */
    static final Set<String> PLAIN_FIELDS = Set.of("apiVersion", "kind", "namespace", "resources", "images");

    @Test
    void everyManifestBelongsToExactlyOneKustomization() throws Exception {
        var listed = new ArrayList<String>();
        for (String k : KUSTOMIZATIONS) {
            Path dir = Path.of(k).getParent() == null ? Path.of("") : Path.of(k).getParent();
            for (JsonNode r : KubernetesModel.YAML.readTree(Path.of(k).toFile()).path("resources")) {
                Path file = dir.resolve(r.asText()).normalize();
                assertThat(Files.isRegularFile(file))
                        .as(k + " lists " + r.asText())
                        .isTrue();
                listed.add(file.toString());
            }
        }
        assertThat(listed).as("listed twice").doesNotHaveDuplicates();
        var expected = new TreeSet<String>();
        for (String f : Manifests.yamlFiles()) {
            if (!Manifests.isKustomization(f)
                    && !Manifests.NOT_MANIFESTS.contains(f)
                    && !f.equals(Manifests.ZTUNNEL_PATCH)) {
                expected.add(f);
            }
        }
        assertThat(new TreeSet<>(listed)).isEqualTo(expected);
        var found = new TreeSet<String>();
        Manifests.yamlFiles().stream().filter(Manifests::isKustomization).forEach(found::add);
        assertThat(found).isEqualTo(new TreeSet<>(KUSTOMIZATIONS));
    }

    @Test
    void kustomizationsUseOnlyFieldsEveryKustomizeReads() throws Exception {
        for (String k : KUSTOMIZATIONS) {
            JsonNode tree = KubernetesModel.YAML.readTree(Path.of(k).toFile());
            var fields = new TreeSet<String>();
            tree.fieldNames().forEachRemaining(fields::add);
            assertThat(PLAIN_FIELDS).as(k + " fields " + fields).containsAll(fields);
            assertThat(tree.path("kind").asText()).isEqualTo("Kustomization");
            for (JsonNode r : tree.path("resources")) {
                assertThat(Files.isRegularFile(Path.of(k).resolveSibling(r.asText())))
                        .as(k + ": " + r.asText() + " must be a file (kustomize v2 takes no directories here)")
                        .isTrue();
            }
        }
    }

    @ParameterizedTest(name = "kubectl kustomize {0}")
    @ValueSource(strings = {".", "waypoint", "observability"})
    void kubectlBuildsItIntoValidManifests(String dir) throws Exception {
        var kubectl = Tools.require("kubectl", "kubernetes-client");
        var r = Tools.run(Path.of("."), Duration.ofSeconds(60), List.of(kubectl.toString(), "kustomize", dir));
        assertThat(r.ok()).as(r.output()).isTrue();
        var docs = KubernetesModel.readText(Path.of("kubectl kustomize " + dir), r.output());
        JsonNode k =
                KubernetesModel.YAML.readTree(Path.of(dir, "kustomization.yaml").toFile());
        int expected = 0;
        for (JsonNode res : k.path("resources")) {
            expected += KubernetesModel.read(Path.of(dir, res.asText())).size();
        }
        assertThat(docs).hasSize(expected);
        String namespace = k.path("namespace").asText(null);
        for (var doc : docs) {
            HasMetadata m = (HasMetadata) doc.model();
            boolean clusterScoped = java.util.Set.of("Namespace", "ClusterRole", "ClusterRoleBinding")
                    .contains(m.getKind());
            if (namespace != null && !clusterScoped) {
                assertThat(m.getMetadata().getNamespace()).as(m.getKind()).isEqualTo(namespace);
            }
            if (namespace != null && doc.model() instanceof io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding b) {
                // the grant must follow the waypoint's service account into the kustomization's namespace
                assertThat(b.getSubjects())
                        .allSatisfy(s -> assertThat(s.getNamespace()).isEqualTo(namespace));
            }
            var pod = doc.model() instanceof DaemonSet ds
                    ? ds.getSpec().getTemplate().getSpec()
                    : doc.model() instanceof Deployment d
                            ? d.getSpec().getTemplate().getSpec()
                            : null;
            if (pod != null) {
                assertThat(pod.getContainers())
                        .allSatisfy(c -> assertThat(c.getImage()).isEqualTo("ambit:0.1.0"));
            }
        }
    }
}
