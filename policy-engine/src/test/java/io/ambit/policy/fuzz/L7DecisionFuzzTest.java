package io.ambit.policy.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.path.InvalidPathException;
import io.ambit.policy.path.PathNormalization;
import io.ambit.policy.path.PathNormalizer;
import io.ambit.policy.semantics.Fixture;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * L7 decisions end to end (load, compile, decide): a decision never depends on the case in which a policy
 * spells a header name, and deciding on the normalized path gives the same decision as deciding on the raw
 * one — the waypoint forwards the normalized path and hands it to the engine, which normalizes again, so
 * the two must agree or the policy and the upstream see different paths.
 */
class L7DecisionFuzzTest {
    private static final String RULES = "rules:\n"
            + "- to: [{operation: {paths: [\"/admin\", \"/admin/*\", \"/a/{*}/secret\", \"*.bak\"]}}]\n"
            + "- when: [{key: \"request.headers[%s]\", values: [\"t*\"]}]\n";
    private static final PolicySnapshot LOWER = snapshot("x-token");

    @Property(seed = FuzzInputs.SEED)
    void headerNameCaseInAPolicyChangesNoDecision(
            @ForAll("nameCasings") String name, @ForAll("tokens") List<String> values, @ForAll("paths") String path) {
        PolicySnapshot spelled = snapshot(name);
        AccessRequest request =
                Fixture.l7("GET", path).headers(Map.of("x-token", values)).build();

        Decision expected = LOWER.decideL7(request);

        assertThat(spelled.decideL7(request).verdict())
                .as("%s with %s", name, values)
                .isEqualTo(expected.verdict());
    }

    @Property(seed = FuzzInputs.SEED)
    void decidingOnTheNormalizedPathChangesNothing(@ForAll("paths") String raw) {
        String normalized;
        try {
            normalized = PathNormalizer.normalize(raw, PathNormalization.BASE);
        } catch (InvalidPathException e) {
            assertThat(LOWER.decideL7(Fixture.l7("GET", raw).build()).httpStatus())
                    .isEqualTo(400);
            return;
        }
        Decision onRaw = LOWER.decideL7(Fixture.l7("GET", raw).build());
        Decision onNormalized = LOWER.decideL7(Fixture.l7("GET", normalized).build());

        assertThat(onNormalized.verdict()).as("%s -> %s", raw, normalized).isEqualTo(onRaw.verdict());
    }

    private static PolicySnapshot snapshot(String headerName) {
        return Fixture.snapshot(Fixture.object(
                "AuthorizationPolicy",
                Fixture.NS,
                "deny-admin",
                Map.of(),
                Fixture.TO_SERVICE + "action: DENY\n" + String.format(RULES, headerName)));
    }

    @Provide
    Arbitrary<String> nameCasings() {
        return Arbitraries.integers().between(0, 127).map(mask -> {
            StringBuilder sb = new StringBuilder("x-token");
            for (int i = 0; i < sb.length(); i++) {
                if ((mask >> i & 1) == 1) {
                    sb.setCharAt(i, Character.toUpperCase(sb.charAt(i)));
                }
            }
            return sb.toString();
        });
    }

    @Provide
    Arbitrary<List<String>> tokens() {
        return Arbitraries.of("t", "token", "T", "x", "", "tt").list().ofMaxSize(3);
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> segment = Arbitraries.of(
                "admin", "ADMIN", "a", "b", "secret", ".", "..", "%2E", "%2e%2E", "%61dmin", "x.bak", "", "%2F", "\\");
        return segment.list().ofMinSize(1).ofMaxSize(5).map(parts -> "/" + String.join("/", parts));
    }
}
