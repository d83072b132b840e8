package io.ambit.policy.review;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.AccessRequest.Destination;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.engine.Token;
import io.ambit.policy.load.LoadError;
import io.ambit.policy.load.LoadResult;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.semantics.Fixture;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The review tests' names for the semantics fixture: one destination {@code foo/httpbin} (labels
 * {@code app: httpbin}, Service {@code httpbin}, waypoint {@code waypoint}), a client
 * {@code cluster.local/ns/foo/sa/sleep}, YAML builders and loaders. Delegates to {@link Fixture}.
 */
final class ReviewFixture {
    private ReviewFixture() {}

    static final String NS = Fixture.NS;
    static final String SLEEP = Fixture.SLEEP;
    static final String HOST = Fixture.HOST;
    static final Map<String, String> LABELS = Fixture.LABELS;
    static final Destination HTTPBIN = Fixture.HTTPBIN;

    /** Attaches a policy to the {@code httpbin} Service, so that the waypoint enforces it. */
    static final String TO_SERVICE = Fixture.TO_SERVICE;

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
        return Fixture.object(kind, ns, name, annotations, spec);
    }

    static String docs(String... docs) {
        return Fixture.docs(docs);
    }

    static LoadResult load(String yaml) {
        return new PolicyLoader(false).text(yaml, "review.yaml").result();
    }

    static MeshConfig mesh(String yaml) {
        return Fixture.mesh(yaml);
    }

    static PolicySnapshot snapshot(String yaml) {
        return Fixture.snapshot(yaml);
    }

    static PolicySnapshot snapshot(String yaml, MeshConfig mesh) {
        return Fixture.snapshot(yaml, mesh);
    }

    /** A new mTLS connection from {@code sleep} to {@code httpbin:8080}, as the destination ztunnel sees it. */
    static AccessRequest.Builder l4() {
        return Fixture.l4();
    }

    /** {@code GET /} from {@code sleep} to the {@code httpbin} Service, as its waypoint sees it. */
    static AccessRequest.Builder l7() {
        return Fixture.l7();
    }

    static AccessRequest.Builder l7(String method, String path) {
        return Fixture.l7(method, path);
    }

    static Token.Verified jwt(String issuer, String subject) {
        return new Token.Verified(issuer, subject, List.of(), null, Map.of());
    }

    static String errorsToString(List<LoadError> errors) {
        return errors.stream().map(Objects::toString).collect(Collectors.joining("\n"));
    }
}
