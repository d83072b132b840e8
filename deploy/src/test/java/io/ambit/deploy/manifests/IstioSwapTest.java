package io.ambit.deploy.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.ambit.deploy.Tools;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Swapping Istio's ztunnel image for Ambit's in an existing install: the strategic-merge patch applied by
 * a real {@code kubectl patch --local} to the DaemonSet Istio's chart renders (a fixture), and the Helm
 * values checked against the chart's value names.
 */
class IstioSwapTest {
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/istio-ztunnel-daemonset.yaml");
    static final Path PATCH = Path.of(Manifests.ZTUNNEL_PATCH);
    static final Path VALUES = Path.of("istio-swap/values-ambit.yaml");

    /** Top-level values of Istio's ztunnel chart (manifests/charts/ztunnel/values.yaml) this file may set. */
    static final Set<String> CHART_VALUES = Set.of(
            "hub",
            "tag",
            "variant",
            "image",
            "resources",
            "env",
            "imagePullPolicy",
            "podAnnotations",
            "podLabels",
            "terminationGracePeriodSeconds",
            "logLevel",
            "logAsJson",
            "caAddress",
            "xdsAddress",
            "volumes",
            "volumeMounts",
            "multiCluster",
            "meshConfig");

    @Test
    void kubectlPatchSwapsOnlyTheImageAndAddsTheJvmSettings() throws Exception {
        var kubectl = Tools.require("kubectl", "kubernetes-client");
        var r = Tools.run(
                Path.of("."),
                Duration.ofSeconds(60),
                List.of(
                        kubectl.toString(),
                        "patch",
                        "--local",
                        "-f",
                        FIXTURE.toString(),
                        "--type",
                        "strategic",
                        "--patch-file",
                        PATCH.toString(),
                        "-o",
                        "yaml"));
        assertThat(r.ok()).as(r.output()).isTrue();
        DaemonSet before = ManifestsTest.one(FIXTURE, DaemonSet.class);
        DaemonSet after = (DaemonSet) KubernetesModel.readText(Path.of("patched"), r.output())
                .getFirst()
                .model();
        Container was = ManifestsTest.container(before.getSpec().getTemplate().getSpec(), "istio-proxy");
        Container now = ManifestsTest.container(after.getSpec().getTemplate().getSpec(), "istio-proxy");
        assertThat(now.getImage()).isEqualTo(patchImage()).isNotEqualTo(was.getImage());
        // Istio's arguments stay: the image reads `proxy ztunnel` as `ztunnel`
        assertThat(now.getArgs()).containsExactly("proxy", "ztunnel");
        assertThat(ManifestsTest.env(now)).containsAllEntriesOf(ManifestsTest.env(was));
        assertThat(ManifestsTest.env(now)).containsKey("AMBIT_JAVA_OPTS");
        assertThat(now.getResources().getLimits()).containsKey("memory");
        assertThat(now.getResources().getRequests())
                .isEqualTo(was.getResources().getRequests());
        assertThat(now.getSecurityContext()).isEqualTo(was.getSecurityContext());
        assertThat(now.getVolumeMounts()).isEqualTo(was.getVolumeMounts());
        assertThat(after.getSpec().getTemplate().getSpec().getVolumes())
                .isEqualTo(before.getSpec().getTemplate().getSpec().getVolumes());
        assertThat(after.getSpec().getTemplate().getSpec().getServiceAccountName())
                .isEqualTo("ztunnel");
    }

    @Test
    void helmValuesUseTheChartsNamesAndTheSameImage() throws Exception {
        JsonNode values = KubernetesModel.YAML.readTree(VALUES.toFile());
        var keys = new TreeSet<String>();
        values.fieldNames().forEachRemaining(keys::add);
        assertThat(CHART_VALUES).as("keys " + keys).containsAll(keys);
        // with a "/", the chart takes `image` as the whole reference instead of hub/image:tag
        assertThat(values.path("image").asText()).contains("/").isEqualTo(patchImage());
        assertThat(values.path("env").path("AMBIT_JAVA_OPTS").asText()).isNotBlank();
        assertThat(values.path("terminationGracePeriodSeconds").asInt()).isGreaterThan(10);
        assertThat(values.path("resources").path("limits").path("memory").asText())
                .isNotBlank();
    }

    static String patchImage() throws Exception {
        DaemonSet patch =
                KubernetesModel.strict(KubernetesModel.YAML.readTree(PATCH.toFile()), DaemonSet.class, "patch");
        return patch.getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .getFirst()
                .getImage();
    }
}
