package io.ambit.deploy.manifests;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import java.io.IOException;
import java.io.StringReader;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Manifests read into fabric8's Kubernetes model, strictly: a kind the model does not know, a field it does
 * not know (fabric8 would keep it quietly in {@code additionalProperties}), or a value of the wrong type
 * is an error naming the file, the document and the field path.
 */
final class KubernetesModel {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS);

    /** apiVersion/kind → the model class. */
    static final Map<String, Class<?>> KINDS = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ServiceAccount", ServiceAccount.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("apps/v1/DaemonSet", DaemonSet.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("gateway.networking.k8s.io/v1/Gateway", Gateway.class),
            Map.entry("monitoring.coreos.com/v1/PrometheusRule", PrometheusRule.class),
            Map.entry("rbac.authorization.k8s.io/v1/ClusterRole", ClusterRole.class),
            Map.entry("rbac.authorization.k8s.io/v1/ClusterRoleBinding", ClusterRoleBinding.class));

    private KubernetesModel() {}

    /** One document of a file, and what it became. */
    record Doc(Path file, int index, JsonNode tree, Object model) {
        @Override
        public String toString() {
            return file + " document " + (index + 1);
        }
    }

    /** Every non-empty document of {@code file}, each read into its kind's class. */
    static List<Doc> read(Path file) throws IOException {
        return readText(file, Files.readString(file));
    }

    static List<Doc> readText(Path file, String text) throws IOException {
        var docs = new ArrayList<Doc>();
        try (YAMLParser parser = new YAMLFactory().createParser(new StringReader(text))) {
            var trees = YAML.readValues(parser, JsonNode.class);
            int i = 0;
            while (trees.hasNext()) {
                JsonNode tree = trees.next();
                if (tree != null && !(tree instanceof NullNode) && !tree.isEmpty()) {
                    String key = tree.path("apiVersion").asText() + "/"
                            + tree.path("kind").asText();
                    Class<?> type = KINDS.get(key);
                    if (type == null) {
                        throw new AssertionError(file + " document " + (i + 1) + ": apiVersion/kind " + key
                                + " is not one the tests know (expected one of " + KINDS.keySet() + ")");
                    }
                    docs.add(new Doc(file, i, tree, strict(tree, type, file + " document " + (i + 1))));
                }
                i++;
            }
        }
        return docs;
    }

    /** {@code tree} as {@code type}, refusing unknown fields anywhere in it. */
    static <T> T strict(JsonNode tree, Class<T> type, String where) throws IOException {
        T model;
        try {
            model = YAML.treeToValue(tree, type);
        } catch (IOException e) {
            throw new AssertionError(where + ": " + e.getMessage(), e);
        }
        var unknown = new ArrayList<String>();
        unknownFields(model, type.getSimpleName(), unknown);
        if (!unknown.isEmpty()) {
            throw new AssertionError(where + ": fields the Kubernetes model does not know: " + unknown);
        }
        return model;
    }

    /**
     * Collects the {@code additionalProperties} of every fabric8 object under {@code o}: fabric8 keeps
     * unknown fields there instead of failing, so an empty map everywhere means every field was known.
     */
    static void unknownFields(Object o, String path, List<String> out) {
        if (o == null) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                unknownFields(e, path + "[" + i++ + "]", out);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                unknownFields(e.getValue(), path + "[" + e.getKey() + "]", out);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0
                    || Modifier.isStatic(m.getModifiers())
                    || !m.getName().startsWith("get")
                    || m.getName().equals("getClass")) {
                continue;
            }
            Object value;
            try {
                value = m.invoke(o);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError("cannot read " + path + "." + m.getName(), e);
            }
            if (m.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(k -> out.add(path + "." + k));
                }
                continue;
            }
            String name =
                    Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            unknownFields(value, path + "." + name, out);
        }
    }
}
