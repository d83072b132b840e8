package io.ambit.deploy.manifests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.xds.kube.ApiKind;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every manifest of the module read into fabric8's Kubernetes and Gateway API models with unknown fields
 * refused, then checked for what an Istio ambient install needs of the ztunnel and the waypoint.
 */
class ManifestsTest {

    @Test
    void everyManifestIsAKnownKindWithOnlyKnownFields() throws Exception {
        int read = 0;
        for (String file : Manifests.yamlFiles()) {
            if (Manifests.NOT_MANIFESTS.contains(file) || Manifests.isKustomization(file)) {
                continue;
            }
            if (file.equals(Manifests.ZTUNNEL_PATCH)) {
                KubernetesModel.strict(
                        KubernetesModel.YAML.readTree(Path.of(file).toFile()), DaemonSet.class, file);
                read++;
                continue;
            }
            var docs = KubernetesModel.read(Path.of(file));
            assertThat(docs).as(file + " has at least one document").isNotEmpty();
            read += docs.size();
        }
        assertThat(read).as("documents read").isGreaterThanOrEqualTo(10);
    }

    /** The strict reading is not blind: a misspelt field or a wrong type fails it, naming the path. */
    @Test
    void aMisspeltFieldOrAWrongTypeIsRefused() throws Exception {
        String misspelt = """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: ztunnel}
                spec:
                  selector: {matchLabels: {app: ztunnel}}
                  template:
                    metadata: {labels: {app: ztunnel}}
                    spec:
                      terminationGracePeriodSecond: 30
                      containers:
                      - name: istio-proxy
                        image: ambit
                        securityContext: {capabilities: {add: [NET_ADMIN]}, readOnlyRootFilesytem: true}
                """;
        assertThatThrownBy(() -> KubernetesModel.readText(Path.of("misspelt.yaml"), misspelt))
                .hasMessageContaining("misspelt.yaml document 1")
                .hasMessageContaining("DaemonSet.spec.template.spec.terminationGracePeriodSecond")
                .hasMessageContaining("containers[0].securityContext.readOnlyRootFilesytem");
        String wrongType = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: waypoint}
                spec: {replicas: two}
                """;
        assertThatThrownBy(() -> KubernetesModel.readText(Path.of("wrong.yaml"), wrongType))
                .hasMessageContaining("wrong.yaml document 1");
        String unknownKind = """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: x}
                """;
        assertThatThrownBy(() -> KubernetesModel.readText(Path.of("kind.yaml"), unknownKind))
                .hasMessageContaining("networking.istio.io/v1/Sidecar is not one the tests know");
    }

    // --- the ztunnel DaemonSet

    static DaemonSet ztunnel() throws Exception {
        return one(Path.of("ztunnel/daemonset.yaml"), DaemonSet.class);
    }

    @Test
    void ztunnelRunsInPodModeWithIstiosCredentials() throws Exception {
        DaemonSet ds = ztunnel();
        assertThat(ds.getMetadata().getNamespace()).isEqualTo("istio-system");
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo("ztunnel");
        Container c = container(pod, "istio-proxy");
        assertThat(c.getArgs()).containsExactly("ztunnel");
        var env = env(c);
        assertThat(env).containsKeys("XDS_ADDRESS", "CA_ADDRESS", "CLUSTER_ID");
        assertThat(env.get("XDS_ADDRESS")).endsWith(":15012");
        assertThat(env.get("CA_ADDRESS")).endsWith(":15012");

        // the projected token for istiod, audience istio-ca, where AUTH_TOKEN says
        Volume token = volume(pod, "istio-token");
        var sat = token.getProjected().getSources().getFirst().getServiceAccountToken();
        assertThat(sat.getAudience()).isEqualTo("istio-ca");
        assertThat(mountPath(c, "istio-token") + "/" + sat.getPath()).isEqualTo(env.get("AUTH_TOKEN"));
        // the mesh root certificate istiod publishes, where XDS_ROOT_CA and CA_ROOT_CA say
        Volume root = volume(pod, "istiod-ca-cert");
        assertThat(root.getConfigMap().getName()).isEqualTo("istio-ca-root-cert");
        assertThat(env.get("XDS_ROOT_CA")).isEqualTo(mountPath(c, "istiod-ca-cert") + "/root-cert.pem");
        assertThat(env.get("CA_ROOT_CA")).isEqualTo(env.get("XDS_ROOT_CA"));
        // the ZDS socket directory shared with istio-cni's node agent
        Volume zds = volume(pod, "cni-ztunnel-sock-dir");
        assertThat(zds.getHostPath().getPath()).isEqualTo("/var/run/ztunnel");
        assertThat(zds.getHostPath().getType()).isEqualTo("DirectoryOrCreate");
        assertThat(mountPath(c, "cni-ztunnel-sock-dir")).isEqualTo("/var/run/ztunnel");
        assertThat(env.get("INPOD_UDS")).isEqualTo("/var/run/ztunnel/ztunnel.sock");
        everyMountHasAVolumeAndBack(pod);
    }

    @Test
    void ztunnelHasTheCapabilitiesItNeedsAndNoMore() throws Exception {
        var sc = container(ztunnel().getSpec().getTemplate().getSpec(), "istio-proxy")
                .getSecurityContext();
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(sc.getCapabilities().getAdd()).containsExactlyInAnyOrder("NET_ADMIN", "SYS_ADMIN");
        assertThat(sc.getPrivileged()).isFalse();
        assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
        assertThat(ztunnel().getSpec().getTemplate().getSpec().getHostNetwork())
                .as("hostNetwork")
                .isNotEqualTo(Boolean.TRUE);
        assertThat(mountPath(container(ztunnel().getSpec().getTemplate().getSpec(), "istio-proxy"), "tmp"))
                .as("a writable /tmp for the JVM")
                .isEqualTo("/tmp");
    }

    @Test
    void ztunnelIsProbedScrapedSizedAndDrainsWithinItsGracePeriod() throws Exception {
        DaemonSet ds = ztunnel();
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        Container c = container(pod, "istio-proxy");
        var probe = c.getReadinessProbe().getHttpGet();
        assertThat(probe.getPath()).isEqualTo("/healthz/ready");
        assertThat(probe.getPort().getIntVal()).isEqualTo(15021);
        assertThat(c.getLivenessProbe()).as("no liveness probe, as ztunnel").isNull();
        assertThat(c.getPorts().stream().map(p -> p.getContainerPort())).contains(15020, 15021);
        var annotations = ds.getSpec().getTemplate().getMetadata().getAnnotations();
        assertThat(annotations)
                .containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", "15020")
                .containsEntry("prometheus.io/path", "/stats/prometheus");
        // the drain deadline is TERMINATION_GRACE_PERIOD_SECONDS - 5 s: it must be the pod's grace period
        assertThat(env(c).get("TERMINATION_GRACE_PERIOD_SECONDS"))
                .isEqualTo(pod.getTerminationGracePeriodSeconds().toString());
        assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThan(10L);
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(pod.getPriorityClassName()).isEqualTo("system-node-critical");
        assertThat(ds.getSpec()
                        .getUpdateStrategy()
                        .getRollingUpdate()
                        .getMaxUnavailable()
                        .getIntVal())
                .isZero();
        assertThat(ds.getSpec().getTemplate().getMetadata().getLabels())
                .containsEntry("istio.io/dataplane-mode", "none");
    }

    // --- the waypoint

    @Test
    void theWaypointGatewayPointsAtAmbitsServiceSoIstiodDeploysNothing() throws Exception {
        Gateway gw = one(Path.of("waypoint/gateway.yaml"), Gateway.class);
        Service svc = one(Path.of("waypoint/service.yaml"), Service.class);
        String namespace = kustomizationNamespace("waypoint/kustomization.yaml");
        assertThat(gw.getSpec().getGatewayClassName()).isEqualTo("istio-waypoint");
        assertThat(gw.getSpec().getListeners()).singleElement().satisfies(l -> {
            assertThat(l.getPort()).isEqualTo(15008);
            assertThat(l.getProtocol()).isEqualTo("HBONE");
        });
        assertThat(gw.getSpec().getAddresses()).singleElement().satisfies(a -> {
            assertThat(a.getType()).isEqualTo("Hostname");
            assertThat(a.getValue()).isEqualTo(svc.getMetadata().getName() + "." + namespace + ".svc.cluster.local");
        });
        assertThat(svc.getSpec().getPorts().stream().map(p -> p.getPort())).contains(15008);
        for (var m : List.of(gw.getMetadata(), svc.getMetadata())) {
            assertThat(m.getNamespace()).isEqualTo(namespace);
        }
    }

    @Test
    void theWaypointDeploymentServesTheGatewaysServiceAsAnUnprivilegedPod() throws Exception {
        Gateway gw = one(Path.of("waypoint/gateway.yaml"), Gateway.class);
        Deployment d = one(Path.of("waypoint/deployment.yaml"), Deployment.class);
        Service svc = one(Path.of("waypoint/service.yaml"), Service.class);
        PodDisruptionBudget pdb = one(Path.of("waypoint/poddisruptionbudget.yaml"), PodDisruptionBudget.class);
        var podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels)
                .containsEntry(
                        "gateway.networking.k8s.io/gateway-name",
                        gw.getMetadata().getName())
                .containsEntry("istio.io/dataplane-mode", "none");
        assertThat(podLabels).containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
        assertThat(podLabels).containsAllEntriesOf(svc.getSpec().getSelector());
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        Container c = container(pod, "waypoint");
        assertThat(c.getArgs()).containsExactly("waypoint");
        var containerPorts =
                c.getPorts().stream().map(p -> p.getContainerPort()).collect(Collectors.toSet());
        for (var p : svc.getSpec().getPorts()) {
            assertThat(containerPorts)
                    .as("Service port " + p.getName())
                    .contains(p.getTargetPort().getIntVal());
        }
        assertThat(containerPorts).contains(15008, 15020, 15021);
        var sc = c.getSecurityContext();
        assertThat(sc.getRunAsNonRoot()).isTrue();
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(sc.getCapabilities().getAdd()).isNullOrEmpty();
        var sat = volume(pod, "istio-token")
                .getProjected()
                .getSources()
                .getFirst()
                .getServiceAccountToken();
        assertThat(sat.getAudience()).isEqualTo("istio-ca");
        assertThat(env(c).get("TERMINATION_GRACE_PERIOD_SECONDS"))
                .isEqualTo(pod.getTerminationGracePeriodSeconds().toString());
        assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("prometheus.io/port", "15020");
        everyMountHasAVolumeAndBack(pod);
    }

    @Test
    void theWaypointRunsInClusterModeWithWhoItIsFromThePod() throws Exception {
        Deployment d = one(Path.of("waypoint/deployment.yaml"), Deployment.class);
        Container c = container(d.getSpec().getTemplate().getSpec(), "waypoint");
        assertThat(c.getArgs())
                .as("no FILE: configuration from istiod and the Kubernetes API")
                .containsExactly("waypoint");
        var env = env(c);
        assertThat(env.get("XDS_ADDRESS")).isEqualTo("https://istiod.istio-system.svc:15012");
        assertThat(env.get("MESH_CONFIGMAP")).isEqualTo("istio-system/istio");
        var fields = new java.util.LinkedHashMap<String, String>();
        for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null) {
                fields.put(e.getName(), e.getValueFrom().getFieldRef().getFieldPath());
            }
        }
        assertThat(fields)
                .containsEntry("GATEWAY_NAME", "metadata.labels['gateway.networking.k8s.io/gateway-name']")
                .containsEntry("POD_NAMESPACE", "metadata.namespace")
                .containsEntry("SERVICE_ACCOUNT", "spec.serviceAccountName")
                .containsEntry("INSTANCE_IP", "status.podIP");
        assertThat(d.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken())
                .as("the API token reads the policies")
                .isTrue();
    }

    @Test
    void theWaypointMayOnlyGetListAndWatchExactlyTheKindsItReads() throws Exception {
        var docs = KubernetesModel.read(Path.of("waypoint/rbac.yaml"));
        ClusterRole role = (ClusterRole) docs.stream()
                .filter(x -> x.model() instanceof ClusterRole)
                .findFirst()
                .orElseThrow()
                .model();
        ClusterRoleBinding binding = (ClusterRoleBinding) docs.stream()
                .filter(x -> x.model() instanceof ClusterRoleBinding)
                .findFirst()
                .orElseThrow()
                .model();
        Deployment d = one(Path.of("waypoint/deployment.yaml"), Deployment.class);
        var granted = new TreeSet<String>();
        for (var rule : role.getRules()) {
            assertThat(rule.getVerbs()).as("read only").containsExactlyInAnyOrder("get", "list", "watch");
            assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    granted.add(group + "/" + resource);
                    if (resource.equals("configmaps")) {
                        assertThat(rule.getResourceNames())
                                .as("only Istio's mesh ConfigMap")
                                .containsExactly("istio");
                    }
                }
            }
        }
        var read = new TreeSet<String>();
        for (ApiKind k : ApiKind.POLICIES) {
            read.add(k.group() + "/" + k.plural());
        }
        read.add("/configmaps");
        assertThat(granted)
                .as("what KubePolicySource lists and watches, no more")
                .isEqualTo(read);
        assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName())
                    .isEqualTo(d.getSpec().getTemplate().getSpec().getServiceAccountName());
            assertThat(s.getNamespace()).isEqualTo(kustomizationNamespace("waypoint/kustomization.yaml"));
        });
    }

    @Test
    void theNamespaceIsAmbientAndUsesTheWaypoint() throws Exception {
        Gateway gw = one(Path.of("waypoint/gateway.yaml"), Gateway.class);
        Namespace ns = one(Path.of("waypoint/namespace.yaml"), Namespace.class);
        assertThat(ns.getMetadata().getName()).isEqualTo(kustomizationNamespace("waypoint/kustomization.yaml"));
        assertThat(ns.getMetadata().getLabels())
                .containsEntry("istio.io/dataplane-mode", "ambient")
                .containsEntry("istio.io/use-waypoint", gw.getMetadata().getName());
    }

    // --- helpers

    static <T> T one(Path file, Class<T> type) throws Exception {
        var docs = KubernetesModel.read(file);
        assertThat(docs).as(file.toString()).hasSize(1);
        return type.cast(docs.getFirst().model());
    }

    static String kustomizationNamespace(String file) throws Exception {
        return KubernetesModel.YAML
                .readTree(Path.of(file).toFile())
                .path("namespace")
                .asText();
    }

    static Container container(PodSpec pod, String name) {
        return pod.getContainers().stream()
                .filter(c -> c.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no container " + name));
    }

    static Map<String, String> env(Container c) {
        var map = new java.util.LinkedHashMap<String, String>();
        for (EnvVar e : c.getEnv()) {
            map.put(e.getName(), e.getValue());
        }
        return map;
    }

    static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream()
                .filter(v -> v.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    static String mountPath(Container c, String volume) {
        return c.getVolumeMounts().stream()
                .filter(m -> m.getName().equals(volume))
                .map(VolumeMount::getMountPath)
                .findFirst()
                .orElseThrow(() -> new AssertionError("volume " + volume + " is not mounted"));
    }

    static void everyMountHasAVolumeAndBack(PodSpec pod) {
        Set<String> volumes = pod.getVolumes().stream().map(Volume::getName).collect(Collectors.toSet());
        Set<String> mounted = new TreeSet<>();
        var problems = new ArrayList<String>();
        for (Container c : pod.getContainers()) {
            for (VolumeMount m : c.getVolumeMounts()) {
                mounted.add(m.getName());
                if (!volumes.contains(m.getName())) {
                    problems.add(c.getName() + " mounts unknown volume " + m.getName());
                }
            }
        }
        for (String v : volumes) {
            if (!mounted.contains(v)) {
                problems.add("volume " + v + " is never mounted");
            }
        }
        assertThat(problems).isEmpty();
    }
}
