package io.ambit.deploy.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.ambit.deploy.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The alerts in {@code observability/prometheus-rules.yaml}, checked with Debian's {@code promtool}: the
 * file is valid, its unit tests pass (series that fire each alert and series that must not), the unit
 * tests notice a broken rule, and the PrometheusRule wraps exactly the same groups.
 */
class AlertRulesTest {
    static final Path DIR = Path.of("observability");
    static final Path RULES = DIR.resolve("prometheus-rules.yaml");
    static final Path RULE_CRD = DIR.resolve("prometheus-rule.yaml");
    static final Path UNIT_TESTS = DIR.resolve("tests/alerts-test.yaml");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final Duration LIMIT = Duration.ofSeconds(60);

    static Tools.Result promtool(Path dir, String... args) throws Exception {
        var command = new ArrayList<String>();
        command.add(Tools.require("promtool", "prometheus").toString());
        command.addAll(List.of(args));
        return Tools.run(dir, LIMIT, command);
    }

    @Test
    void promtoolAcceptsTheRulesFile() throws Exception {
        var r = promtool(DIR, "check", "rules", RULES.getFileName().toString());
        assertThat(r.ok()).as(r.output()).isTrue();
        assertThat(r.output()).contains("SUCCESS: " + alerts().size() + " rules found");
    }

    @Test
    void promtoolUnitTestsPass() throws Exception {
        var r = promtool(DIR, "test", "rules", "tests/alerts-test.yaml");
        assertThat(r.ok()).as(r.output()).isTrue();
        assertThat(r.output()).contains("SUCCESS");
    }

    /** Each alert fires in some unit test, and is checked not to fire (or to be only pending) in one. */
    @Test
    void everyAlertIsTestedFiringAndQuiet() throws Exception {
        var firing = new TreeSet<String>();
        var quiet = new TreeSet<String>();
        for (JsonNode test : YAML.readTree(UNIT_TESTS.toFile()).get("tests")) {
            for (JsonNode check : test.get("alert_rule_test")) {
                (check.get("exp_alerts").isEmpty() ? quiet : firing)
                        .add(check.get("alertname").asText());
            }
        }
        var names = new TreeSet<>(
                alerts().stream().map(a -> a.get("alert").asText()).toList());
        assertThat(firing).as("alerts with a unit test where they fire").isEqualTo(names);
        assertThat(quiet)
                .as("alerts with a unit test where they do not fire yet")
                .isEqualTo(names);
    }

    /**
     * A rule weakened in a way an operator would notice (every occurrence of {@code from} becomes {@code
     * to}) must break the unit tests: proof that they test
     * the thresholds, the {@code for} durations and the label filters, not only that the file loads.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("weakenings")
    void theUnitTestsCatchAWeakenedRule(String what, String from, String to, @TempDir Path tmp) throws Exception {
        String rules = Files.readString(RULES);
        // in one alert only (the L4 denial alert reads its numerator twice, in both legs)
        assertThat(count(rules, from)).as("the text to change: " + from).isBetween(1, 2);
        Files.writeString(tmp.resolve("prometheus-rules.yaml"), rules.replace(from, to));
        Files.createDirectories(tmp.resolve("tests"));
        Files.copy(UNIT_TESTS, tmp.resolve("tests/alerts-test.yaml"));
        var r = promtool(tmp, "test", "rules", "tests/alerts-test.yaml");
        assertThat(r.ok())
                .as("promtool test rules should fail when the rule is weakened:\n" + r.output())
                .isFalse();
        assertThat(r.output()).contains("FAILED");
    }

    static Stream<Arguments> weakenings() {
        return Stream.of(
                Arguments.of(
                        "the plaintext alert without its 10 minutes of patience",
                        "for: 10m\n    labels:\n      severity: warning\n    annotations:\n      summary: 'Plaintext",
                        "for: 1m\n    labels:\n      severity: warning\n    annotations:\n      summary: 'Plaintext"),
                Arguments.of(
                        "the plaintext alert counting mTLS connections too",
                        "reporter=\"destination\", connection_security_policy!=\"mutual_tls\"}[5m])",
                        "reporter=\"destination\"}[5m])"),
                Arguments.of(
                        "the 403 alert without its 5% share",
                        ") > 0.05\n      )\n    for: 5m\n    labels:\n      severity: warning\n    annotations:\n"
                                + "      summary: 'Many requests",
                        ") > 0.01\n      )\n    for: 5m\n    labels:\n      severity: warning\n    annotations:\n"
                                + "      summary: 'Many requests"),
                Arguments.of(
                        "the L4 denial alert counting source-side refusals",
                        "rate(istio_tcp_connections_failed_total{reporter=\"destination\", response_flags=\"DENY\"}[5m])",
                        "rate(istio_tcp_connections_failed_total{response_flags=\"DENY\"}[5m])"),
                Arguments.of(
                        "the expiry warning at 13 hours, which healthy certificates reach",
                        "istio_cert_expiry_timestamp - time() < 6 * 3600",
                        "istio_cert_expiry_timestamp - time() < 13 * 3600"),
                Arguments.of(
                        "the xDS alert counting istiod's routine reconnects",
                        "reason=~\"ConnectionError|Error\"",
                        "reason=~\".+\""));
    }

    @Test
    void everyAlertHasForSeverityAndRunbook() throws Exception {
        for (JsonNode rule : alerts()) {
            String name = rule.get("alert").asText();
            assertThat(rule.path("for").asText()).as(name + " for").matches("[1-9][0-9]*[smh]");
            assertThat(rule.path("labels").path("severity").asText())
                    .as(name + " severity")
                    .isIn("warning", "critical");
            for (String a : List.of("summary", "description", "runbook")) {
                assertThat(rule.path("annotations").path(a).asText())
                        .as(name + " " + a)
                        .isNotBlank();
            }
        }
        assertThat(alerts().stream().map(a -> a.get("alert").asText()))
                .as("the article's three alerts keep their names")
                .contains("IstioMutualTLSDisabled", "IstioAuthorizationDenialSpike", "IstioCertificateExpiringSoon");
    }

    @Test
    void thePrometheusRuleWrapsTheSameGroups(@TempDir Path tmp) throws Exception {
        JsonNode crd = YAML.readTree(RULE_CRD.toFile());
        assertThat(crd.path("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(crd.path("kind").asText()).isEqualTo("PrometheusRule");
        assertThat(crd.path("spec").path("groups"))
                .as("PrometheusRule spec.groups vs prometheus-rules.yaml groups (regenerate with"
                        + " observability/generate-prometheusrule.sh)")
                .isEqualTo(YAML.readTree(RULES.toFile()).get("groups"));
        // and byte for byte what the generator writes, so a hand edit of one file is caught too
        Path out = tmp.resolve("prometheus-rule.yaml");
        var r = Tools.run(DIR, LIMIT, List.of("bash", "generate-prometheusrule.sh", out.toString()));
        assertThat(r.ok()).as(r.output()).isTrue();
        assertThat(Files.readString(RULE_CRD)).isEqualTo(Files.readString(out));
    }

    static List<JsonNode> alerts() throws Exception {
        var list = new ArrayList<JsonNode>();
        for (JsonNode group : YAML.readTree(RULES.toFile()).get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                if (rule.has("alert")) {
                    list.add(rule);
                }
            }
        }
        return list;
    }

    /** Alert names of the rules file. */
    static Set<String> alertNames() throws Exception {
        return new TreeSet<>(alerts().stream().map(a -> a.get("alert").asText()).toList());
    }

    private static int count(String haystack, String needle) {
        return (int) Pattern.compile(Pattern.quote(needle))
                .matcher(haystack)
                .results()
                .count();
    }
}
