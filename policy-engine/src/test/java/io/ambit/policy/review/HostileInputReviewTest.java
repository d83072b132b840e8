package io.ambit.policy.review;

import static io.ambit.policy.review.ReviewFixture.EXTENDED;
import static io.ambit.policy.review.ReviewFixture.NS;
import static io.ambit.policy.review.ReviewFixture.TO_SERVICE;
import static io.ambit.policy.review.ReviewFixture.annotated;
import static io.ambit.policy.review.ReviewFixture.docs;
import static io.ambit.policy.review.ReviewFixture.l7;
import static io.ambit.policy.review.ReviewFixture.load;
import static io.ambit.policy.review.ReviewFixture.snapshot;
import static io.ambit.policy.review.ReviewFixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.engine.Token;
import io.ambit.policy.load.MeshConfigLoader;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Task item (4): crashes or unbounded work on hostile input. */
class HostileInputReviewTest {

    private static String deepFlowList(int depth) {
        return "[".repeat(depth) + "]".repeat(depth);
    }

    /**
     * A 100 KB policy file of nested flow sequences makes snakeyaml's recursive scanner/composer throw
     * {@link StackOverflowError}, which {@code PolicyLoader.text} does not catch (it only catches
     * YamlEngineException). In the CLI the Error escapes {@code call()}: no decision is printed, exit 1 with
     * a stack trace. Expected: one LoadError ("nesting too deep"), the rest of the run unaffected.
     */
    @Test
    void deeplyNestedYamlIsALoadErrorNotAStackOverflow() {
        String yaml = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
                + "metadata: {name: p, namespace: foo}\nspec: {rules: " + deepFlowList(50_000) + "}\n";
        assertThatCode(() -> {
                    var r = load(yaml);
                    assertThat(r.errors()).isNotEmpty();
                    assertThat(r.policies().size()).isZero();
                })
                .doesNotThrowAnyException();
    }

    /** Same for the mesh file: {@code MeshConfigLoader.parse} must throw its checked exception, not an Error. */
    @Test
    void deeplyNestedMeshYamlIsAnInvalidMeshConfigNotAStackOverflow() {
        String yaml = "rootNamespace: " + deepFlowList(50_000) + "\n";
        assertThatThrownBy(() -> MeshConfigLoader.parse(yaml, "mesh.yaml"))
                .isInstanceOf(MeshConfigLoader.InvalidMeshConfigException.class);
    }

    /**
     * "Billion laughs" through {@code kind: List}: {@code maxAliasesForCollections(50)} bounds the number of
     * aliases, not the expanded size, and PolicyLoader recurses into aliased List items. An 800-byte file of
     * 16 doubling levels is read as 131,071 documents (131,070 "defined twice" errors); each further level
     * doubles time and memory (18 levels: 0.5 M errors, 2.4 s; 24 levels, 1.1 KB: 33 M errors, out of memory).
     * Expected: bounded work, e.g. reject aliased collections/documents past a small expansion budget.
     */
    @Test
    void aliasedListItemsDoNotExpandExponentially() {
        var sb = new StringBuilder("apiVersion: v1\nkind: List\nitems:\n");
        sb.append("- &p0 {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, ")
                .append("metadata: {name: x, namespace: foo}, spec: {}}\n");
        int levels = 16;
        for (int i = 1; i <= levels; i++) {
            sb.append("- &p")
                    .append(i)
                    .append(" {kind: List, items: [*p")
                    .append(i - 1)
                    .append(", *p");
            sb.append(i - 1).append("]}\n");
        }
        assertThat(sb.length()).isLessThan(1024);
        var r = load(sb.toString());
        assertThat(r.errors().size() + r.policies().size())
                .as("objects read from a %d-byte file", sb.length())
                .isLessThan(1_000);
    }

    /**
     * A JWT claim that is a JSON number with a huge exponent ({@code 1e100000000}, 12 bytes of JSON; Jackson's
     * 1000-character number limit does not stop it) is turned into text with {@code BigDecimal.toPlainString()}
     * by ComparisonMatcher.text: 100 M characters per decision, then copied into the explanation
     * ("uncomparable value ...: \"1000...\""). With {@code 1e999999999} it is ~1 GB and 4 s per request; the
     * CLI prints it as one output line. Expected: compare the BigDecimal directly (it is a number, so
     * {@code >100} simply matches) or fail closed without materialising it; either way bounded time/output.
     */
    @Test
    void aHugeExponentNumericClaimIsDecidedInBoundedTimeAndOutput() {
        var s = snapshot(docs(
                annotated(
                        NS,
                        "big-spender",
                        Map.of(EXTENDED, "true"),
                        TO_SERVICE + "rules: [{when: [{key: \"request.auth.claims[amount]\", values: [\">100\"]}]}]"),
                waypointRequestAuth("jwt", "jwtRules: [{issuer: iss}]")));
        var token =
                new Token.Verified("iss", "alice", List.of(), null, Map.of("amount", new BigDecimal("1e100000000")));
        long t0 = System.nanoTime();
        var d = s.decideL7(l7().token(token).build());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(d.explanation().length()).as("explanation length").isLessThan(65_536);
        assertThat(ms).as("milliseconds for one decision").isLessThan(500);
    }
}
