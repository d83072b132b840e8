package io.ambit.ztunnel.telemetry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where ztunnel reports each connection once, at its end (or at its refusal): ztunnel's {@code access}
 * log (ztunnel-reference.md §7.2). The default writes one line to the SLF4J logger {@code access}: ztunnel's
 * {@code key="value"} text, or one JSON object per line ({@link Format#JSON}, ztunnel's {@code
 * LOG_FORMAT=json}) for log pipelines; tests add a recorder.
 */
@FunctionalInterface
public interface AccessLog {
    void log(Entry entry);

    /** Both this and {@code other}. */
    default AccessLog and(AccessLog other) {
        return e -> {
            log(e);
            other.log(e);
        };
    }

    /** Text lines on the SLF4J logger {@code access}: INFO when complete, WARN when refused or failed. */
    static AccessLog slf4j() {
        return Slf4j.TEXT;
    }

    /** Lines in {@code format} on the SLF4J logger {@code access}. */
    static AccessLog slf4j(Format format) {
        return format == Format.JSON ? Slf4j.JSON : Slf4j.TEXT;
    }

    /** How a line is written. */
    enum Format {
        /** ztunnel's {@code message key="value" ...}. */
        TEXT,
        /** One JSON object per line, keys as ztunnel's JSON log ({@code src.addr}, ...). */
        JSON;

        /**
         * {@code text} or {@code json}, any case (ztunnel's {@code LOG_FORMAT}).
         *
         * @throws IllegalArgumentException naming the value and what is accepted
         */
        public static Format parse(String value) {
            return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "text", "plain", "" -> TEXT;
                case "json" -> JSON;
                default -> throw new IllegalArgumentException("log format \"" + value + "\" (expected: text or json)");
            };
        }
    }

    /**
     * One connection.
     *
     * @param direction   {@code inbound} or {@code outbound}
     * @param srcAddr     the client's {@code ip:port}
     * @param srcWorkload the source workload's name, or null when unknown
     * @param srcIdentity the client's SPIFFE id (mTLS only), or null
     * @param dstAddr     the target {@code ip:port} (the app's, after service mapping)
     * @param dstHboneAddr the HBONE server dialed, or null (inbound, passthrough)
     * @param dstService  the destination service hostname, or null
     * @param dstWorkload the destination workload's name, or null
     * @param dstIdentity the destination's SPIFFE id, or null
     * @param policy      the policy that decided ({@code ns/name}), or null
     * @param rule        the deciding rule's index, or null
     * @param reason      the decision's explanation, or null
     * @param error       why it failed or was refused, or null when it completed
     * @param bytesSent   bytes relayed from the client toward the destination
     * @param bytesRecv   bytes relayed from the destination back to the client
     * @param durationMs  how long it lasted
     * @param srcNamespace the source workload's namespace, or null
     * @param dstNamespace the destination workload's namespace, or null
     * @param responseFlags the connection's response flag as in the metrics ({@code -}, {@code DENY},
     *     {@code CONNECT}, ...); when null, derived: {@code -} without error, {@code DENY} when a policy
     *     decided and it failed, else {@code CONNECT}
     */
    record Entry(
            String direction,
            String srcAddr,
            String srcWorkload,
            String srcIdentity,
            String dstAddr,
            String dstHboneAddr,
            String dstService,
            String dstWorkload,
            String dstIdentity,
            String policy,
            Integer rule,
            String reason,
            String error,
            long bytesSent,
            long bytesRecv,
            long durationMs,
            String srcNamespace,
            String dstNamespace,
            String responseFlags) {

        public Entry {
            if (responseFlags == null) {
                responseFlags = error == null ? "-" : policy != null ? "DENY" : "CONNECT";
            }
        }

        /** Without namespaces, the response flag derived from the error and the deciding policy. */
        public Entry(
                String direction,
                String srcAddr,
                String srcWorkload,
                String srcIdentity,
                String dstAddr,
                String dstHboneAddr,
                String dstService,
                String dstWorkload,
                String dstIdentity,
                String policy,
                Integer rule,
                String reason,
                String error,
                long bytesSent,
                long bytesRecv,
                long durationMs) {
            this(
                    direction,
                    srcAddr,
                    srcWorkload,
                    srcIdentity,
                    dstAddr,
                    dstHboneAddr,
                    dstService,
                    dstWorkload,
                    dstIdentity,
                    policy,
                    rule,
                    reason,
                    error,
                    bytesSent,
                    bytesRecv,
                    durationMs,
                    null,
                    null,
                    null);
        }

        /** ztunnel's wording: {@code connection complete} or {@code connection failed}. */
        public String message() {
            return error == null ? "connection complete" : "connection failed";
        }

        /** The line as logged: the message then {@code key="value"} pairs, absent values left out. */
        public String format() {
            var b = new StringBuilder(message());
            field(b, "src.addr", srcAddr);
            field(b, "src.workload", srcWorkload);
            field(b, "src.namespace", srcNamespace);
            field(b, "src.identity", srcIdentity);
            field(b, "dst.addr", dstAddr);
            field(b, "dst.hbone_addr", dstHboneAddr);
            field(b, "dst.service", dstService);
            field(b, "dst.workload", dstWorkload);
            field(b, "dst.namespace", dstNamespace);
            field(b, "dst.identity", dstIdentity);
            field(b, "direction", direction);
            field(b, "response_flags", responseFlags);
            field(b, "policy", policy);
            field(b, "rule", rule == null ? null : rule.toString());
            field(b, "reason", reason);
            field(b, "error", error);
            b.append(" bytes_sent=").append(bytesSent);
            b.append(" bytes_recv=").append(bytesRecv);
            b.append(" duration=\"").append(durationMs).append("ms\"");
            return b.toString();
        }

        /**
         * The line as one JSON object: {@code timestamp}, {@code level}, {@code target} ({@code access}),
         * {@code message}, then the same keys as {@link #format()} (absent values left out), {@code
         * bytes_sent}/{@code bytes_recv}/{@code duration_ms} as numbers.
         */
        public String json(java.time.Instant at, String level) {
            var b = new StringBuilder(320).append('{');
            jsonField(b, "timestamp", at.toString());
            jsonField(b, "level", level);
            jsonField(b, "target", "access");
            jsonField(b, "message", message());
            jsonField(b, "src.addr", srcAddr);
            jsonField(b, "src.workload", srcWorkload);
            jsonField(b, "src.namespace", srcNamespace);
            jsonField(b, "src.identity", srcIdentity);
            jsonField(b, "dst.addr", dstAddr);
            jsonField(b, "dst.hbone_addr", dstHboneAddr);
            jsonField(b, "dst.service", dstService);
            jsonField(b, "dst.workload", dstWorkload);
            jsonField(b, "dst.namespace", dstNamespace);
            jsonField(b, "dst.identity", dstIdentity);
            jsonField(b, "direction", direction);
            jsonField(b, "response_flags", responseFlags);
            jsonField(b, "policy", policy);
            if (rule != null) {
                b.append(",\"rule\":").append(rule.intValue());
            }
            jsonField(b, "reason", reason);
            jsonField(b, "error", error);
            b.append(",\"bytes_sent\":").append(bytesSent);
            b.append(",\"bytes_recv\":").append(bytesRecv);
            b.append(",\"duration_ms\":").append(durationMs);
            return b.append('}').toString();
        }

        private static void jsonField(StringBuilder b, String key, String value) {
            if (value == null) {
                return;
            }
            if (b.length() > 1) {
                b.append(',');
            }
            b.append('"').append(key).append("\":\"");
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            b.append('"');
        }

        private static void field(StringBuilder b, String key, String value) {
            if (value != null) {
                b.append(' ')
                        .append(key)
                        .append("=\"")
                        .append(value.replace("\"", "'"))
                        .append('"');
            }
        }
    }

    /** The SLF4J writers. */
    enum Slf4j implements AccessLog {
        TEXT,
        JSON;

        private static final Logger text = LoggerFactory.getLogger("access");
        /**
         * A child of {@code access}, so its level follows {@code access}; the logging configuration gives it
         * an appender that writes the message alone, since a JSON line must be nothing but the object.
         */
        private static final Logger json = LoggerFactory.getLogger("access.json");

        @Override
        public void log(Entry entry) {
            var log = this == JSON ? json : text;
            // checked first: building the line is most of the cost of a log call that goes nowhere
            boolean ok = entry.error() == null;
            if (ok ? !log.isInfoEnabled() : !log.isWarnEnabled()) {
                return;
            }
            String line = this == JSON ? entry.json(java.time.Instant.now(), ok ? "info" : "warn") : entry.format();
            if (ok) {
                log.info("{}", line);
            } else {
                log.warn("{}", line);
            }
        }
    }
}
