package io.ambit.xds.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.xds.file.LocalMeshFile;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The pieces of the watch protocol that need no server: event lines with a bound, the API server's JSON read
 * with the mesh file's YAML engine and its guards, URLs of collections, and an object turned into the text
 * the mesh-file parser reads (server-owned fields dropped).
 */
class WatchProtocolPartsTest {

    static BoundedLines lines(String text, int max) {
        return new BoundedLines(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), max);
    }

    @Test
    void eventLinesAreSplitOnNewlinesSkippingBlankKeepAlivesAndDroppingACutOffLastLine() throws Exception {
        var l = lines("{\"a\":1}\n\n\r\n{\"b\":2}\r\n{\"cut", 1024);
        assertThat(l.next()).isEqualTo("{\"a\":1}");
        assertThat(l.next()).isEqualTo("{\"b\":2}");
        assertThat(l.next()).as("an event without its newline is incomplete").isNull();
    }

    @Test
    void aLineLongerThanTheLimitIsRefusedBeforeItIsReadWhole() {
        var l = lines("x".repeat(5000) + "\n", 1024);
        assertThatThrownBy(l::next)
                .isInstanceOf(BoundedLines.LineTooLongException.class)
                .hasMessageContaining("longer than 1024 bytes");
    }

    @Test
    void jsonIsReadAsYamlWithNumbersStringsAndEscapes() throws Exception {
        var o = KubeJson.object(
                "{\"type\":\"ADDED\",\"object\":{\"code\":410,\"ok\":true,\"s\":\"a\\/b\\u00e9\\n\",\"l\":[1,\"2\"]}}",
                "an event");
        var obj = KubeJson.map(o, "object");
        assertThat(obj.get("code")).isEqualTo(410);
        assertThat(obj.get("ok")).isEqualTo(true);
        assertThat(obj.get("s")).isEqualTo("a/bé\n");
        assertThat(obj.get("l")).isEqualTo(List.of(1, "2"));
    }

    @Test
    void badJsonIsRefusedWithWhatItWas() {
        assertThatThrownBy(() -> KubeJson.object("{\"a\": ", "a watch event of X"))
                .isInstanceOf(KubeJson.BadJsonException.class)
                .hasMessageStartingWith("a watch event of X is not valid JSON");
        assertThatThrownBy(() -> KubeJson.object("[1,2]", "a list of X"))
                .hasMessageContaining("expected: a JSON object");
        assertThatThrownBy(() -> KubeJson.object("{\"a\":1,\"a\":2}", "an event"))
                .isInstanceOf(KubeJson.BadJsonException.class);
        assertThatThrownBy(() -> KubeJson.object("[".repeat(5000) + "]".repeat(5000), "an event"))
                .isInstanceOf(KubeJson.BadJsonException.class)
                .hasMessageContaining("nested more than");
    }

    @Test
    void collectionUrlsFollowTheApiServersLayout() {
        assertThat(ApiKind.AUTHORIZATION_POLICY.url("limit=500"))
                .isEqualTo("/apis/security.istio.io/v1/authorizationpolicies?limit=500");
        assertThat(ApiKind.meshConfigMap("istio-system", "istio").url("watch=1"))
                .isEqualTo("/api/v1/namespaces/istio-system/configmaps?watch=1&fieldSelector=metadata.name%3Distio");
        assertThat(ApiKind.LOCAL_RATE_LIMIT.apiVersion()).isEqualTo("ambit.io/v1alpha1");
    }

    @Test
    void anObjectFromTheServerBecomesTheUsersDocumentWhichTheMeshFileParserAccepts() throws Exception {
        var object = KubeJson.object("""
                {"apiVersion":"security.istio.io/v1","kind":"AuthorizationPolicy",
                 "metadata":{"name":"deny-admin","namespace":"shop","uid":"u-1","resourceVersion":"77",
                   "generation":3,"creationTimestamp":"2026-01-02T03:04:05Z",
                   "managedFields":[{"manager":"kubectl","operation":"Update"}],
                   "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{...}","team":"a"}},
                 "spec":{"action":"DENY","rules":[{"to":[{"operation":{"paths":["/admin"],"ports":["8080"]}}]}]},
                 "status":{"validationMessages":[]}}
                """, "an object");
        String text = KubeObjects.text(object);
        assertThat(text)
                .doesNotContain("managedFields", "uid", "resourceVersion", "status", "last-applied", "generation")
                .contains("creationTimestamp", "team: a", "'8080'");
        assertThat(KubeObjects.ref(object)).isEqualTo("AuthorizationPolicy shop/deny-admin");
        var state = LocalMeshFile.parse(KubeObjects.meshDocument("") + "---\n" + text, "t", List.of());
        var policy = state.policies().policies().authorizationPolicies().getFirst();
        assertThat(policy.meta().name()).isEqualTo("deny-admin");
        assertThat(policy.meta().annotations()).containsEntry("team", "a");
    }

    @Test
    void istiosMeshConfigIsReadUnderItsWrapperWhereIstiosOtherSettingsAreAllowed() throws Exception {
        String mesh = """
                accessLogFile: /dev/stdout
                defaultConfig: {discoveryAddress: istiod.istio-system.svc:15012}
                trustDomain: example.org
                extensionProviders:
                - name: authz
                  envoyExtAuthzHttp: {service: authz.shop.svc.cluster.local, port: 8000}
                """;
        var state = LocalMeshFile.parse(KubeObjects.meshDocument(mesh), "t", List.of());
        assertThat(state.mesh().trustDomain()).isEqualTo("example.org");
        assertThat(state.mesh().provider("authz")).isPresent();
    }

    @Test
    void inClusterSettingsNameWhatIsMissing() {
        var sa = java.nio.file.Path.of("/nonexistent/serviceaccount");
        assertThatThrownBy(() -> KubeApi.inCluster(Map.of(), sa))
                .hasMessageContaining("KUBERNETES_SERVICE_HOST is not set");
        assertThatThrownBy(() -> KubeApi.inCluster(
                        Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBERNETES_SERVICE_PORT", "https"), sa))
                .hasMessageContaining("KUBERNETES_SERVICE_PORT \"https\" (expected: a port 1-65535)");
        assertThatThrownBy(() -> KubeApi.inCluster(Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1"), sa))
                .hasMessageContaining("/nonexistent/serviceaccount/ca.crt cannot be used");
        assertThatThrownBy(() -> KubeApi.of(java.net.URI.create("http://10.96.0.1:443"), sa, null))
                .hasMessageContaining("expected: https://host:port");
    }
}
