package io.ambit.waypoint.telemetry;

import io.ambit.policy.engine.Decision;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per request (logger {@code access}, INFO), written when the request ends: who, what,
 * where it went, how it ended, and the policy that decided — so a 403 names its policy and rule.
 */
public final class AccessLog implements RequestObserver {
    private static final Logger ACCESS = LoggerFactory.getLogger("access");

    private final Consumer<String> sink;

    private AccessLog(Consumer<String> sink) {
        this.sink = sink;
    }

    /** Lines to the {@code access} logger (dropped cheaply when it is off). */
    public static AccessLog slf4j() {
        return new AccessLog(null);
    }

    /** Lines to {@code sink} (tests). */
    public static AccessLog to(Consumer<String> sink) {
        return new AccessLog(sink);
    }

    @Override
    public void completed(RequestRecord r) {
        if (sink == null && !ACCESS.isInfoEnabled()) {
            return;
        }
        String line = format(r);
        if (sink != null) {
            sink.accept(line);
        } else {
            ACCESS.info(line);
        }
    }

    /** The line for one request. */
    public static String format(RequestRecord r) {
        Decision d = r.decision();
        var json = new JsonLine()
                .field("start_time", r.start().toString())
                .field("reporter", "waypoint")
                .field("method", r.method())
                .field("path", r.path())
                .field("authority", r.authority())
                .field("protocol", r.protocol())
                .field("response_code", r.status())
                .field("grpc_status", r.grpcStatus())
                .field("response_flags", r.flag().code())
                .field("bytes_received", r.bytesReceived())
                .field("bytes_sent", r.bytesSent())
                .field("duration_ms", r.durationNanos() / 1_000_000.0)
                .field("source_principal", r.peer().identity().toString())
                .field("source_ip", r.peer().sourceIp().toString())
                .field(
                        "source_workload",
                        r.peer().workload() == null ? null : r.peer().workload().name())
                .field("destination_service", r.target().service().hostname())
                .field("destination_port", r.target().servicePort())
                .field(
                        "upstream_host",
                        r.endpoint() == null ? null : r.endpoint().authority())
                .field(
                        "destination_workload",
                        r.endpoint() == null ? null : r.endpoint().workload().name())
                .field("decision", d == null ? null : d.verdict().name())
                .field(
                        "decision_reason",
                        d == null
                                ? null
                                : d.reason() == null ? null : d.reason().text())
                .field("policy", d == null ? null : d.policy())
                .field("policy_rule", d == null || d.rule() == null ? -1 : d.rule())
                // the sentence is built only for refusals: allowed requests are the hot path
                .field("explanation", d == null || d.allowed() ? null : d.explanation())
                .field("request_id", r.requestId())
                .field("user_agent", r.userAgent())
                .field("trace_id", r.trace() == null ? null : r.trace().traceId());
        return json.toString();
    }
}
