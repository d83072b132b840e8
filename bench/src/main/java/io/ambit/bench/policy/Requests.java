package io.ambit.bench.policy;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.AccessRequest.Destination;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicySnapshot;
import java.util.List;
import java.util.Map;

/**
 * The representative connection and requests of the decision benchmarks, all to the {@code api}
 * workload of {@link MeshFixture#TARGET_NAMESPACE}, and the decisions they must get. Each one walks
 * every policy attached to its target:
 *
 * <ul>
 *   <li>L4 (ztunnel): the mesh block list, the namespace's two namespace-wide policies and the
 *       {@code app=api} selector policy: 40 rules, of which ztunnel keeps 39 (rule 3 of {@code
 *       api-allow} is HTTP-only and dropped).
 *   <li>L7 (waypoint): the {@code api} Service's ALLOW and DENY, the waypoint Gateway's ALLOW and DENY
 *       and the GatewayClass scanner list, 50 rules in all.
 * </ul>
 *
 * <p>The allow cases are admitted by the last rule of the last ALLOW policy to look at; the deny cases
 * match no rule and are denied because ALLOW policies apply and none matched (the dearest way to say
 * no: every rule is tried and the explanation lists what applied).
 */
public final class Requests {
    /** The one identity the fixture's client rules admit; no random rule names its namespace. */
    public static final String CLIENT = "cluster.local/ns/frontend/sa/client";

    static final String UNKNOWN_PEER = "cluster.local/ns/frontend/sa/intruder";
    static final String L4_ALLOW_POLICY = MeshFixture.TARGET_NAMESPACE + "/api-allow";
    static final String L7_ALLOW_POLICY = MeshFixture.TARGET_NAMESPACE + "/api-http-allow";

    private static final Destination API = new Destination(
            MeshFixture.TARGET_NAMESPACE,
            Map.of("app", "api", "version", "v1", "pod-template-hash", "7d9f8b6c5"),
            "api",
            "api",
            MeshFixture.WAYPOINT);
    private static final Map<String, List<String>> HEADERS = Map.of(
            "x-tenant", List.of("tenant-a"),
            "user-agent", List.of("curl/8.5.0"),
            "accept", List.of("application/json"),
            "x-request-id", List.of("2f0c7b3e-9a41-4c1e-8f7a-6d2b1c0e9f11"));

    private Requests() {}

    /** The client opens a connection to api:8080: allowed by {@code api-allow}, rule 9. */
    public static AccessRequest l4Allow() {
        return connection(CLIENT);
    }

    /** An identity no rule names connects to api:8080: denied, no ALLOW policy matched. */
    public static AccessRequest l4Deny() {
        return connection(UNKNOWN_PEER);
    }

    /** {@code GET /api/v1/items/123?limit=10} from the client: allowed by {@code api-http-allow}, rule 9. */
    public static AccessRequest l7Allow() {
        return request("GET", "/api/v1/items/123?limit=10");
    }

    /** {@code DELETE /api/v1/items/42} from the client: denied, no ALLOW policy matched. */
    public static AccessRequest l7Deny() {
        return request("DELETE", "/api/v1/items/42");
    }

    private static AccessRequest connection(String peer) {
        return AccessRequest.builder()
                .peer(peer)
                .sourceIp("10.1.2.3")
                .destination(API)
                .destinationIp("10.2.0.15")
                .port(8080)
                .build();
    }

    private static AccessRequest request(String method, String path) {
        return AccessRequest.builder()
                .peer(CLIENT)
                .sourceIp("10.1.2.3")
                .destination(API)
                .destinationIp("10.2.0.15")
                .port(8080)
                .http(method, "api." + MeshFixture.TARGET_NAMESPACE + ".svc.cluster.local", path)
                .headers(HEADERS)
                .build();
    }

    /**
     * Fails unless every representative request gets its intended decision: a benchmark of the wrong
     * path measures nothing.
     */
    public static void check(PolicySnapshot s) {
        expect("L4 allow", s.decideL4(l4Allow()), Decision.Verdict.ALLOW, L4_ALLOW_POLICY);
        expect("L4 deny", s.decideL4(l4Deny()), Decision.Verdict.DENY, null);
        expect("L7 allow", s.decideL7(l7Allow()), Decision.Verdict.ALLOW, L7_ALLOW_POLICY);
        expect("L7 deny", s.decideL7(l7Deny()), Decision.Verdict.DENY, null);
    }

    private static void expect(String what, Decision d, Decision.Verdict verdict, String policy) {
        boolean ok = d.verdict() == verdict
                && d.reason() == Decision.Reason.AUTHZ
                && (policy == null
                        ? d.policy() == null
                        : policy.equals(d.policy()) && d.rule() == MeshFixture.RULES - 1);
        if (!ok) {
            throw new IllegalStateException(what + ": expected " + verdict + (policy == null ? "" : " by " + policy)
                    + ", got " + d.verdict() + " (" + d.explanation() + ")");
        }
    }
}
