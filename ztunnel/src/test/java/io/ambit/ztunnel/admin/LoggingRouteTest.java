package io.ambit.ztunnel.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Admin {@code /logging} as ztunnel's: list, POST ?level=FILTER, POST ?reset. */
class LoggingRouteTest {
    private final Recording levels = new Recording();

    @Test
    void filtersParseAsRustLogDoes() {
        assertThat(LogLevels.parse("info")).containsExactly(Map.entry("", "info"));
        assertThat(LogLevels.parse("warn, access=OFF,io.ambit.ztunnel.inbound=debug"))
                .containsExactly(
                        Map.entry("", "warn"),
                        Map.entry("access", "off"),
                        Map.entry("io.ambit.ztunnel.inbound", "debug"));
    }

    @Test
    void badFiltersSayWhatIsExpected() {
        assertThatThrownBy(() -> LogLevels.parse("access=loud")).hasMessageContaining("level \"loud\"");
        assertThatThrownBy(() -> LogLevels.parse("=info")).hasMessageContaining("no logger name");
        assertThatThrownBy(() -> LogLevels.parse("info,debug")).hasMessageContaining("set twice");
        assertThatThrownBy(() -> LogLevels.parse(" ")).hasMessageContaining("empty level filter");
    }

    @Test
    void withoutParametersTheLevelsAreListed() {
        var reply = AdminRoutes.logging(levels, "POST", Map.of());
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("default: warn\n");
        assertThat(AdminRoutes.logging(levels, "GET", Map.of()).status()).isEqualTo(200);
    }

    @Test
    void postLevelAppliesTheFilterAndAnswersTheNewLevels() {
        var reply = AdminRoutes.logging(levels, "POST", Map.of("level", List.of("access=off")));
        assertThat(reply.status()).isEqualTo(200);
        assertThat(levels.applied).containsExactly(Map.of("access", "off"));
        assertThat(reply.body()).contains("access: off");
    }

    @Test
    void aBadFilterChangesNothing() {
        var reply = AdminRoutes.logging(levels, "POST", Map.of("level", List.of("access=noisy")));
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains("bad level filter").contains("noisy");
        assertThat(levels.applied).isEmpty();
    }

    @Test
    void changesNeedPost() {
        assertThat(AdminRoutes.logging(levels, "GET", Map.of("level", List.of("debug")))
                        .status())
                .isEqualTo(405);
        assertThat(levels.applied).isEmpty();
    }

    @Test
    void resetRestores() {
        AdminRoutes.logging(levels, "POST", Map.of("level", List.of("debug")));
        var reply = AdminRoutes.logging(levels, "POST", Map.of("reset", List.of("")));
        assertThat(reply.status()).isEqualTo(200);
        assertThat(levels.resets).isEqualTo(1);
        assertThat(reply.body()).isEqualTo("default: warn\n");
    }

    @Test
    void aBackendThatCannotChangeLevelsAnswers501() {
        var reply = AdminRoutes.logging(LogLevels.unsupported(), "POST", Map.of("level", List.of("debug")));
        assertThat(reply.status()).isEqualTo(501);
    }

    /** Records what the route asked for; lists the levels it holds. */
    private static final class Recording implements LogLevels {
        final List<Map<String, String>> applied = new ArrayList<>();
        final Map<String, String> current = new LinkedHashMap<>(Map.of("", "warn"));
        int resets;

        @Override
        public String describe() {
            var b = new StringBuilder();
            current.forEach((k, v) ->
                    b.append(k.isEmpty() ? "default" : k).append(": ").append(v).append('\n'));
            return b.toString();
        }

        @Override
        public void apply(Map<String, String> levels) {
            applied.add(levels);
            current.putAll(levels);
        }

        @Override
        public void reset() {
            resets++;
            current.clear();
            current.put("", "warn");
        }
    }
}
