package io.ambit.deploy.manifests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Where the deploy module's YAML lives, and what each file is. */
final class Manifests {
    /** The module directory (tests run in it). */
    static final Path ROOT = Path.of(".");

    /** YAML that is not a Kubernetes manifest: checked by other tests. */
    static final Set<String> NOT_MANIFESTS = Set.of(
            "observability/prometheus-rules.yaml", // plain Prometheus rules: AlertRulesTest
            "observability/tests/alerts-test.yaml", // promtool unit tests: AlertRulesTest
            "istio-swap/values-ambit.yaml"); // Helm values for Istio's ztunnel chart: IstioSwapTest

    /** A strategic-merge patch: a partial DaemonSet without apiVersion and kind. */
    static final String ZTUNNEL_PATCH = "istio-swap/ztunnel-patch.yaml";

    private Manifests() {}

    /** Every YAML file of the module outside target/ and src/, as paths relative to the module. */
    static List<String> yamlFiles() throws IOException {
        try (Stream<Path> files = Files.walk(ROOT)) {
            return files.filter(Files::isRegularFile)
                    .map(p -> ROOT.relativize(p).normalize().toString())
                    .filter(p -> p.endsWith(".yaml") || p.endsWith(".yml"))
                    .filter(p -> !p.startsWith("target/") && !p.startsWith("src/"))
                    .sorted()
                    .toList();
        }
    }

    static boolean isKustomization(String file) {
        return Path.of(file).getFileName().toString().equals("kustomization.yaml");
    }
}
