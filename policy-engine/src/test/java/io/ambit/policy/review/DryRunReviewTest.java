package io.ambit.policy.review;

import static io.ambit.policy.review.ReviewFixture.NS;
import static io.ambit.policy.review.ReviewFixture.annotated;
import static io.ambit.policy.review.ReviewFixture.l7;
import static io.ambit.policy.review.ReviewFixture.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.Decision.Verdict;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** authz-semantics §2.12 / README "dryRun says what istio.io/dry-run policies would have done". */
class DryRunReviewTest {

    /**
     * A policy whose targetRefs name both the Service and its waypoint lands in two L7 buckets. Phase and
     * Explain.audit de-duplicate, Explain.dryRun does not: the CLI prints
     * {@code "dryRun":"dry-run DENY policy foo/dr would deny (rule 0); dry-run DENY policy foo/dr would deny (rule 0)"}
     * and the explanation repeats it too.
     */
    @Test
    void aDryRunPolicyAttachedTwiceIsReportedOnce() {
        var s = snapshot(annotated(NS, "dr", Map.of("istio.io/dry-run", "true"), """
                targetRefs:
                - {kind: Service, group: "", name: httpbin}
                - {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}
                action: DENY
                rules: [{}]
                """));
        var d = s.decideL7(l7().build());
        assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(d.dryRun()).isNotNull();
        assertThat(d.dryRun().split("foo/dr", -1).length - 1)
                .as("mentions of foo/dr in dryRun: %s", d.dryRun())
                .isEqualTo(1);
    }
}
