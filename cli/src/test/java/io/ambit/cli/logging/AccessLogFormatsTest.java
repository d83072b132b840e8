package io.ambit.cli.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.ztunnel.admin.LogLevels;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The JSON access-log line read back by a real JSON parser, and /logging on the real logback. */
class AccessLogFormatsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static AccessLog.Entry denied() {
        return new AccessLog.Entry(
                "inbound",
                "127.0.1.2:40000",
                "curl",
                "spiffe://cluster.local/ns/default/sa/curl",
                "127.0.2.1:8080",
                null,
                null,
                "httpbin-1",
                "spiffe://cluster.local/ns/default/sa/httpbin",
                "default/deny \"evil\"",
                0,
                "DENY rule matched:\n\tsource \\ path",
                "policy denied",
                0,
                0,
                3,
                "default",
                "default",
                "DENY");
    }

    @Test
    void aJsonLineIsOneObjectWithEveryFieldAndTheDecidingPolicy() throws Exception {
        var line = denied().json(Instant.parse("2026-11-21T10:00:00Z"), "warn");
        assertThat(line).doesNotContain("\n");
        var node = JSON.readTree(line);
        assertThat(node.get("timestamp").asText()).isEqualTo("2026-11-21T10:00:00Z");
        assertThat(node.get("level").asText()).isEqualTo("warn");
        assertThat(node.get("target").asText()).isEqualTo("access");
        assertThat(node.get("message").asText()).isEqualTo("connection failed");
        assertThat(node.get("src.addr").asText()).isEqualTo("127.0.1.2:40000");
        assertThat(node.get("src.namespace").asText()).isEqualTo("default");
        assertThat(node.get("dst.identity").asText()).isEqualTo("spiffe://cluster.local/ns/default/sa/httpbin");
        assertThat(node.get("response_flags").asText()).isEqualTo("DENY");
        assertThat(node.get("policy").asText()).isEqualTo("default/deny \"evil\"");
        assertThat(node.get("rule").asInt()).isZero();
        assertThat(node.get("reason").asText()).isEqualTo("DENY rule matched:\n\tsource \\ path");
        assertThat(node.get("duration_ms").asLong()).isEqualTo(3);
        assertThat(node.has("dst.hbone_addr")).isFalse();
    }

    @Test
    void theResponseFlagIsDerivedWhenTheReporterGaveNone() {
        var ok = new AccessLog.Entry(
                "outbound", "a", null, null, "b", null, null, null, null, null, null, null, null, 1, 2, 3);
        var refused = new AccessLog.Entry(
                "outbound", "a", null, null, "b", null, null, null, null, null, null, null, "no route", 0, 0, 0);
        assertThat(ok.responseFlags()).isEqualTo("-");
        assertThat(refused.responseFlags()).isEqualTo("CONNECT");
        assertThat(ok.format()).contains("response_flags=\"-\"");
    }

    @Test
    void formatsAreNamedAsZtunnelNamesThem() {
        assertThat(AccessLog.Format.parse("JSON")).isEqualTo(AccessLog.Format.JSON);
        assertThat(AccessLog.Format.parse("text")).isEqualTo(AccessLog.Format.TEXT);
        assertThatThrownBy(() -> AccessLog.Format.parse("yaml")).hasMessageContaining("expected: text or json");
    }

    @Test
    void loggingChangesAndResetsTheRealLogbackLevels() {
        var ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        var access = ctx.getLogger("access");
        Level before = access.getLevel();
        LogLevels levels = LogbackLevels.current();
        try {
            levels.apply(LogLevels.parse("access=off"));
            assertThat(LoggerFactory.getLogger("access").isWarnEnabled()).isFalse();
            assertThat(LoggerFactory.getLogger("access.json").isWarnEnabled()).isFalse();
            assertThat(levels.describe()).contains("access: off");
            levels.reset();
            assertThat(access.getLevel()).isEqualTo(before);
        } finally {
            access.setLevel(before);
        }
    }

    @Test
    void unknownLoggersCanBeSetToo() {
        LogLevels levels = LogbackLevels.current();
        levels.apply(Map.of("io.ambit.test.only", "debug"));
        assertThat(levels.describe()).contains("io.ambit.test.only: debug");
        levels.reset();
        assertThat(levels.describe()).doesNotContain("io.ambit.test.only");
    }
}
