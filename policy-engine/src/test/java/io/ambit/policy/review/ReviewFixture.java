package io.ambit.policy.review;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.AccessRequest.Destination;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.engine.Token;
import io.ambit.policy.load.LoadError;
import io.ambit.policy.load.LoadResult;
import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.MeshConfig;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The review tests' own copy of the semantics fixture (which is package-private there): one destination
 * {@code foo/httpbin} (labels {@code app: httpbin}, Service {@code httpbin}, waypoint {@code waypoint}),
 * a client {@code cluster.local/ns/foo/sa/sleep}, YAML builders and loaders.
 */
final class ReviewFixture {
    private ReviewFixture() {}

    static final String NS = "foo";
    static final String SLEEP = "cluster.local/ns/foo/sa/sleep";
    static final String HOST = "httpbin.foo.svc.cluster.local";
    static final Map<String, String> LABELS = Map.of("app", "httpbin", "version", "v1");
    static final Destination HTTPBIN = new Destination(NS, LABELS, "httpbin", "httpbin", "waypoint");

    /** Attaches a policy to the {@code httpbin} Service, so that the waypoint enforces it. */
    static final String TO_SERVICE = "targetRefs: [{kind: Service, group: \"\", name: httpbin}]\n";

    static final String EXTENDED = "ambit.io/extended-conditions";

    static String policy(String ns, String name, String spec) {
        return object("AuthorizationPolicy", ns, name, Map.of(), spec);
    }

    static String policy(String name, String spec) {
        return policy(NS, name, spec);
    }

    static String waypointPolicy(String name, String spec) {
        return policy(NS, name, TO_SERVICE + spec);
    }

    static String annotated(String ns, String name, Map<String, String> annotations, String spec) {
        return object("AuthorizationPolicy", ns, name, annotations, spec);
    }

    static String requestAuth(String ns, String name, String spec) {
        return object("RequestAuthentication", ns, name, Map.of(), spec);
    }

    static String waypointRequestAuth(String name, String spec) {
        return requestAuth(NS, name, TO_SERVICE + spec);
    }

    static String object(String kind, String ns, String name, Map<String, String> annotations, String spec) {
        var sb = new StringBuilder()
                .append("apiVersion: security.istio.io/v1\n")
                .append("kind: ")
                .append(kind)
                .append('\n')
                .append("metadata:\n")
                .append("  name: ")
                .append(name)
                .append('\n')
                .append("  namespace: ")
                .append(ns)
                .append('\n');
        if (!annotations.isEmpty()) {
            sb.append("  annotations:\n");
            annotations.forEach((k, v) ->
                    sb.append("    ").append(k).append(": \"").append(v).append("\"\n"));
        }
        sb.append("spec:\n");
        spec.lines().forEach(l -> sb.append("  ").append(l).append('\n'));
        return sb.toString();
    }

    static String docs(String... docs) {
        return String.join("---\n", docs);
    }

    static LoadResult load(String yaml) {
        return new PolicyLoader(false).text(yaml, "review.yaml").result();
    }

    static MeshConfig mesh(String yaml) {
        try {
            return MeshConfigLoader.parse(yaml, "mesh.yaml");
        } catch (MeshConfigLoader.InvalidMeshConfigException e) {
            throw new AssertionError("mesh config does not load: " + e.getMessage(), e);
        }
    }

    static PolicySnapshot snapshot(String yaml) {
        return snapshot(yaml, MeshConfig.DEFAULT);
    }

    static PolicySnapshot snapshot(String yaml, MeshConfig mesh) {
        var result = new PolicyLoader(mesh.extendedConditions())
                .text(yaml, "review.yaml")
                .result();
        assertThat(result.errors())
                .as("the test policies must load without errors")
                .isEmpty();
        return PolicyCompiler.compile(result.policies(), mesh);
    }

    /** A new mTLS connection from {@code sleep} to {@code httpbin:8080}, as the destination ztunnel sees it. */
    static AccessRequest.Builder l4() {
        return AccessRequest.builder()
                .peer(SLEEP)
                .sourceIp("10.0.0.1")
                .destination(HTTPBIN)
                .destinationIp("10.0.1.1")
                .port(8080);
    }

    /** {@code GET /} from {@code sleep} to the {@code httpbin} Service, as its waypoint sees it. */
    static AccessRequest.Builder l7() {
        return AccessRequest.builder()
                .peer(SLEEP)
                .sourceIp("10.0.0.1")
                .destination(HTTPBIN)
                .http("GET", HOST, "/");
    }

    static AccessRequest.Builder l7(String method, String path) {
        return l7().http(method, HOST, path);
    }

    static Token.Verified jwt(String issuer, String subject) {
        return new Token.Verified(issuer, subject, List.of(), null, Map.of());
    }

    static String errorsToString(List<LoadError> errors) {
        return errors.stream().map(Objects::toString).collect(Collectors.joining("\n"));
    }
}
