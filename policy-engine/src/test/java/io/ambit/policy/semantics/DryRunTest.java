package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.TO_SERVICE;
import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.annotated;
import static io.ambit.policy.semantics.Fixture.attached;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.request;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.semantics.Fixture.Layer;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.12: the istio.io/dry-run annotation, parsed as a Go boolean, and what it changes. */
class DryRunTest {
    private static final String DRY_RUN = "istio.io/dry-run";

    private static String annotatedPolicy(Layer layer, String name, String value, String spec) {
        return annotated("foo", name, Map.of(DRY_RUN, value), layer == Layer.L7 ? TO_SERVICE + spec : spec);
    }

    @ParameterizedTest
    @MethodSource
    void annotationValues(String value, boolean dryRun) {
        for (Layer layer : Layer.values()) {
            var yaml = annotatedPolicy(layer, "deny-all", value, "action: DENY\nrules: [{}]\n");
            check(
                    snapshot(yaml),
                    layer,
                    request(layer).build(),
                    dryRun ? allowedNoAllowPolicy() : deniedBy("foo/deny-all", 0));
        }
    }

    static Stream<Arguments> annotationValues() {
        return Stream.of(
                argumentSet("\"1\" means dry-run", "1", true),
                argumentSet("\"t\" means dry-run", "t", true),
                argumentSet("\"T\" means dry-run", "T", true),
                argumentSet("\"TRUE\" means dry-run", "TRUE", true),
                argumentSet("\"true\" means dry-run", "true", true),
                argumentSet("\"True\" means dry-run", "True", true),
                argumentSet("\"0\" means enforced", "0", false),
                argumentSet("\"f\" means enforced", "f", false),
                argumentSet("\"F\" means enforced", "F", false),
                argumentSet("\"FALSE\" means enforced", "FALSE", false),
                argumentSet("\"false\" means enforced", "false", false),
                argumentSet("\"False\" means enforced", "False", false),
                argumentSet("\"yes\" does not parse and means enforced", "yes", false),
                argumentSet("\"tRUE\" does not parse and means enforced", "tRUE", false),
                argumentSet("\"on\" does not parse and means enforced", "on", false),
                argumentSet("an empty value does not parse and means enforced", "", false));
    }

    @ParameterizedTest
    @MethodSource
    void dryRunPoliciesNeverDecide(Layer layer, String yaml, Fixture.Expect expected) {
        check(snapshot(yaml), layer, request(layer).build(), expected);
    }

    static Stream<Arguments> dryRunPoliciesNeverDecide() {
        var out = Stream.<Arguments>builder();
        for (Layer layer : Layer.values()) {
            String noMatch = "rules: [{from: [{source: {namespaces: [nowhere]}}]}]\n";
            out.add(argumentSet(
                    "a dry-run ALLOW policy does not make ALLOW policies present at " + layer,
                    layer,
                    annotatedPolicy(layer, "dry-allow", "true", noMatch),
                    allowedNoAllowPolicy()));
            out.add(argumentSet(
                    "a matching dry-run ALLOW policy does not allow what the enforced ALLOW policies deny at " + layer,
                    layer,
                    docs(
                            annotatedPolicy(layer, "dry-allow", "true", "rules: [{}]\n"),
                            attached(layer, "allow", noMatch)),
                    deniedNoAllowMatched()));
            out.add(argumentSet(
                    "a matching dry-run DENY policy does not stop an enforced ALLOW at " + layer,
                    layer,
                    docs(
                            annotatedPolicy(layer, "dry-deny", "true", "action: DENY\nrules: [{}]\n"),
                            attached(layer, "allow", "rules: [{}]\n")),
                    allowedBy("foo/allow", 0)));
        }
        return out.build();
    }

    @ParameterizedTest
    @MethodSource("layers")
    void aMatchingDryRunDenyIsReportedAsAShadowResult(Layer layer) {
        var yaml = annotatedPolicy(layer, "dry-deny", "true", "action: DENY\nrules: [{}]\n");
        var d = layer.decide(snapshot(yaml), request(layer).build());
        check(d, allowedNoAllowPolicy());
        assertThat(d.dryRun()).as("shadow result").isNotNull().contains("foo/dry-deny");
    }

    static Stream<Arguments> layers() {
        return Stream.of(argumentSet("at ztunnel", Layer.L4), argumentSet("at the waypoint", Layer.L7));
    }
}
