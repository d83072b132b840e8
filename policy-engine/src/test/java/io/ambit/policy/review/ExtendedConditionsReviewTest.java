package io.ambit.policy.review;

import static io.ambit.policy.review.ReviewFixture.EXTENDED;
import static io.ambit.policy.review.ReviewFixture.NS;
import static io.ambit.policy.review.ReviewFixture.TO_SERVICE;
import static io.ambit.policy.review.ReviewFixture.annotated;
import static io.ambit.policy.review.ReviewFixture.docs;
import static io.ambit.policy.review.ReviewFixture.l7;
import static io.ambit.policy.review.ReviewFixture.snapshot;
import static io.ambit.policy.review.ReviewFixture.waypointPolicy;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.Decision;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** seed-extensions.md: numeric comparisons fail closed on a non-number. */
class ExtendedConditionsReviewTest {

    private static Decision decide(String allowGetName) {
        var s = snapshot(docs(
                waypointPolicy(allowGetName, "rules: [{to: [{operation: {methods: [GET]}}]}]"),
                annotated(
                        NS,
                        "m-amount-limit",
                        Map.of(EXTENDED, "true"),
                        TO_SERVICE + "rules: [{when: [{key: \"request.headers[amount]\", values: [\"<1000\"]}]}]")));
        return s.decideL7(l7().headers(Map.of("amount", List.of("lots"))).build());
    }

    /**
     * Phase.best skips policies whose rank (namespace/name order) is not below the best match so far, so
     * whether the non-numeric header reaches {@code m-amount-limit}'s comparison (and fails the request
     * closed) depends on whether another ALLOW policy sorts before it. Renaming {@code a-allow-get} to
     * {@code z-allow-get} flips the same request from ALLOW (authz) to DENY (uncomparable-value). Either
     * answer can be argued ("fails closed: the request is denied" suggests DENY), but not both.
     */
    @Test
    void theVerdictDoesNotDependOnPolicyNames() {
        var a = decide("a-allow-get");
        var z = decide("z-allow-get");
        assertThat(z.verdict() + " " + z.reason().text())
                .as(
                        "a-allow-get gave %s (%s); z-allow-get gave %s (%s)",
                        a.verdict(), a.explanation(), z.verdict(), z.explanation())
                .isEqualTo(a.verdict() + " " + a.reason().text());
    }
}
