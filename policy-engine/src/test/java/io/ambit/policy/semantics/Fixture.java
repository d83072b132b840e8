package io.ambit.policy.semantics;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.AccessRequest.Destination;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.engine.Decision.Verdict;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.engine.Token;
import io.ambit.policy.load.LoadError;
import io.ambit.policy.load.LoadResult;
import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.policy.load.PolicyLoader;
import io.ambit.policy.mesh.MeshConfig;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Shared world for the semantics tests (authz-semantics.md): one destination workload {@code foo/httpbin}
 * (labels {@code app: httpbin, version: v1}, Service {@code httpbin}, waypoint {@code waypoint}), a client
 * {@code cluster.local/ns/foo/sa/sleep}, YAML builders, and decision expectations that print as one line.
 */
public final class Fixture {
    private Fixture() {}

    public static final String NS = "foo";
    static final String ROOT = "istio-system";
    public static final String SLEEP = "cluster.local/ns/foo/sa/sleep";
    static final String CURL_BAR = "cluster.local/ns/bar/sa/curl";
    static final String SOURCE_IP = "10.0.0.1";
    static final String DEST_IP = "10.0.1.1";
    static final int PORT = 8080;
    public static final String HOST = "httpbin.foo.svc.cluster.local";
    public static final Map<String, String> LABELS = Map.of("app", "httpbin", "version", "v1");
    public static final Destination HTTPBIN = new Destination(NS, LABELS, "httpbin", "httpbin", "waypoint");

    /** Attaches a policy to the {@code httpbin} Service, so that the waypoint enforces it. */
    public static final String TO_SERVICE = "targetRefs: [{kind: Service, group: \"\", name: httpbin}]\n";

    // ---------------------------------------------------------------------------------------------
    // YAML

    /** An AuthorizationPolicy; {@code spec} is YAML at column 0 (block or flow style). */
    static String policy(String ns, String name, String spec) {
        return object("AuthorizationPolicy", ns, name, Map.of(), spec);
    }

    /** An AuthorizationPolicy in namespace {@code foo}. */
    static String policy(String name, String spec) {
        return policy(NS, name, spec);
    }

    /** An AuthorizationPolicy in {@code foo} attached to the {@code httpbin} Service (enforced at L7). */
    static String waypointPolicy(String name, String spec) {
        return policy(NS, name, TO_SERVICE + spec);
    }

    /**
     * An AuthorizationPolicy in {@code foo} that the given layer enforces for {@code httpbin}: namespace-wide
     * for ztunnel, attached to the Service for the waypoint.
     */
    static String attached(Layer layer, String name, String spec) {
        return layer == Layer.L4 ? policy(NS, name, spec) : waypointPolicy(name, spec);
    }

    /** The request the given layer sees by default: {@link #l4()} or {@link #l7()}. */
    static AccessRequest.Builder request(Layer layer) {
        return layer == Layer.L4 ? l4() : l7();
    }

    /** An AuthorizationPolicy with annotations. */
    static String annotated(String ns, String name, Map<String, String> annotations, String spec) {
        return object("AuthorizationPolicy", ns, name, annotations, spec);
    }

    static String peerAuth(String ns, String name, String spec) {
        return object("PeerAuthentication", ns, name, Map.of(), spec);
    }

    static String requestAuth(String ns, String name, String spec) {
        return object("RequestAuthentication", ns, name, Map.of(), spec);
    }

    /** A RequestAuthentication in {@code foo} attached to the {@code httpbin} Service. */
    static String waypointRequestAuth(String name, String spec) {
        return requestAuth(NS, name, TO_SERVICE + spec);
    }

    public static String object(String kind, String ns, String name, Map<String, String> annotations, String spec) {
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

    /** Several objects in one multi-document YAML text. */
    public static String docs(String... docs) {
        return String.join("---\n", docs);
    }

    // ---------------------------------------------------------------------------------------------
    // Loading and compiling

    static LoadResult load(String yaml) {
        return load(yaml, false);
    }

    static LoadResult load(String yaml, boolean meshExtendedConditions) {
        return new PolicyLoader(meshExtendedConditions).text(yaml, "test.yaml").result();
    }

    public static MeshConfig mesh(String yaml) {
        try {
            return MeshConfigLoader.parse(yaml, "mesh.yaml");
        } catch (MeshConfigLoader.InvalidMeshConfigException e) {
            throw new AssertionError("mesh config does not load: " + e.getMessage(), e);
        }
    }

    public static PolicySnapshot snapshot(String yaml) {
        return snapshot(yaml, MeshConfig.DEFAULT);
    }

    public static PolicySnapshot snapshot(String yaml, MeshConfig mesh) {
        return snapshot(yaml, mesh, Clock.systemUTC());
    }

    /** Loads (the mesh's extendedConditions switch is passed to the loader too) and compiles; fails on any error. */
    static PolicySnapshot snapshot(String yaml, MeshConfig mesh, Clock clock) {
        var result = load(yaml, mesh.extendedConditions());
        assertThat(result.errors())
                .as("the test policies must load without errors")
                .isEmpty();
        return PolicyCompiler.compile(result.policies(), mesh, clock);
    }

    /**
     * Asserts that the object is rejected (nothing loads) with an error whose field path is one of
     * {@code fieldPaths} or lies under it ({@code path.x}, {@code path[i]}).
     */
    static List<LoadError> assertRejected(LoadResult result, String... fieldPaths) {
        String errors = errorsToString(result.errors());
        assertThat(result.policies().size())
                .as("the invalid object must not be loaded; errors: %s", errors)
                .isZero();
        boolean named = result.errors().stream()
                .map(LoadError::field)
                .filter(Objects::nonNull)
                .anyMatch(f -> Arrays.stream(fieldPaths)
                        .anyMatch(p -> f.equals(p) || f.startsWith(p + ".") || f.startsWith(p + "[")));
        assertThat(named)
                .as("an error must name the field path %s; errors: %s", Arrays.toString(fieldPaths), errors)
                .isTrue();
        return result.errors();
    }

    static void assertLoads(LoadResult result) {
        assertThat(result.errors()).as("valid YAML must load").isEmpty();
        assertThat(result.policies().size()).isEqualTo(1);
    }

    // ---------------------------------------------------------------------------------------------
    // Requests

    /** A new mTLS connection from {@code sleep} to {@code httpbin:8080}, as the destination ztunnel sees it. */
    public static AccessRequest.Builder l4() {
        return AccessRequest.builder()
                .peer(SLEEP)
                .sourceIp(SOURCE_IP)
                .destination(HTTPBIN)
                .destinationIp(DEST_IP)
                .port(PORT);
    }

    /** {@code GET /} from {@code sleep} to the {@code httpbin} Service, as its waypoint sees it. */
    public static AccessRequest.Builder l7() {
        return AccessRequest.builder()
                .peer(SLEEP)
                .sourceIp(SOURCE_IP)
                .destination(HTTPBIN)
                .http("GET", HOST, "/");
    }

    public static AccessRequest.Builder l7(String method, String path) {
        return l7().http(method, HOST, path);
    }

    static Destination workload(String ns, Map<String, String> labels) {
        return new Destination(ns, labels, "httpbin", "httpbin", "waypoint");
    }

    static Destination service(String ns, String service, String waypoint) {
        return new Destination(ns, Map.of("app", service), service, service, waypoint);
    }

    /** One header with one or more values (sent as repeated headers). */
    static Map<String, List<String>> header(String name, String... values) {
        return Map.of(name, List.of(values));
    }

    static Map<String, List<String>> headers(String... nameValuePairs) {
        var out = new LinkedHashMap<String, List<String>>();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            out.put(nameValuePairs[i], List.of(nameValuePairs[i + 1]));
        }
        return out;
    }

    /** A verified JWT with no audiences, presenter or extra claims. */
    static Token.Verified jwt(String issuer, String subject) {
        return new Token.Verified(issuer, subject, List.of(), null, Map.of());
    }

    static Token.Verified jwt(String issuer, String subject, Map<String, Object> claims) {
        return new Token.Verified(issuer, subject, List.of(), null, claims);
    }

    // ---------------------------------------------------------------------------------------------
    // Expectations

    /** Which layer decides. */
    enum Layer {
        L4,
        L7;

        Decision decide(PolicySnapshot s, AccessRequest r) {
            return this == L4 ? s.decideL4(r) : s.decideL7(r);
        }
    }

    /**
     * The parts of a decision the spec determines. Policy and rule are compared only when {@code checkPolicy}
     * and {@code checkRule} say so (the spec does not always name them).
     */
    record Expect(
            Verdict verdict,
            Reason reason,
            String provider,
            boolean checkPolicy,
            String policy,
            boolean checkRule,
            Integer rule) {

        String render(Verdict v, Reason r, String prov, String pol, Integer rul) {
            var sb = new StringBuilder().append(v).append(' ').append(r);
            if (verdict == Verdict.CUSTOM) {
                sb.append(" provider=").append(prov);
            }
            if (checkPolicy) {
                sb.append(" policy=").append(pol);
            }
            if (checkRule) {
                sb.append(" rule=").append(rul);
            }
            return sb.toString();
        }

        @Override
        public String toString() {
            return render(verdict, reason, provider, policy, rule);
        }
    }

    /** Allowed by rule {@code rule} of ALLOW policy {@code policy} ({@code ns/name}). */
    static Expect allowedBy(String policy, int rule) {
        return new Expect(Verdict.ALLOW, Reason.AUTHZ, null, true, policy, true, rule);
    }

    /** Denied by rule {@code rule} of DENY policy {@code policy}. */
    static Expect deniedBy(String policy, int rule) {
        return new Expect(Verdict.DENY, Reason.AUTHZ, null, true, policy, true, rule);
    }

    /** Allowed because no DENY matched and no ALLOW policy applies: no deciding policy. */
    static Expect allowedNoAllowPolicy() {
        return new Expect(Verdict.ALLOW, Reason.AUTHZ, null, true, null, true, null);
    }

    /** Denied because ALLOW policies apply and none matched: no deciding policy. */
    static Expect deniedNoAllowMatched() {
        return new Expect(Verdict.DENY, Reason.AUTHZ, null, true, null, true, null);
    }

    /** Allowed by authorization, whichever policy. */
    static Expect allowed() {
        return new Expect(Verdict.ALLOW, Reason.AUTHZ, null, false, null, false, null);
    }

    /** Denied for {@code reason}, whichever policy. */
    static Expect denied(Reason reason) {
        return new Expect(Verdict.DENY, reason, null, false, null, false, null);
    }

    /** Denied for {@code reason} by {@code policy} (rule not compared). */
    static Expect denied(Reason reason, String policy) {
        return new Expect(Verdict.DENY, reason, null, true, policy, false, null);
    }

    /** Handed to CUSTOM provider {@code provider} by rule {@code rule} of {@code policy}. */
    static Expect custom(String provider, String policy, int rule) {
        return new Expect(Verdict.CUSTOM, Reason.EXT_AUTHZ, provider, true, policy, true, rule);
    }

    static void check(Decision d, Expect e) {
        String actual = e.render(d.verdict(), d.reason(), d.provider(), d.policy(), d.rule());
        assertThat(actual).as("decision, explained as: %s", d.explanation()).isEqualTo(e.toString());
    }

    static void check(PolicySnapshot s, Layer layer, AccessRequest r, Expect e) {
        check(layer.decide(s, r), e);
    }

    static String errorsToString(List<LoadError> errors) {
        return errors.stream().map(Objects::toString).collect(Collectors.joining("\n"));
    }
}
