package io.ambit.ztunnel.telemetry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where ztunnel reports each connection once, at its end (or at its refusal): ztunnel's {@code access}
 * log (ztunnel-reference.md §7.2). The default writes one {@code key=value} line to the SLF4J logger
 * {@code access}; tests add a recorder.
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

    /** Lines on the SLF4J logger {@code access}: INFO when complete, WARN when refused or failed. */
    static AccessLog slf4j() {
        return Slf4j.INSTANCE;
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
            long durationMs) {

        /** ztunnel's wording: {@code connection complete} or {@code connection failed}. */
        public String message() {
            return error == null ? "connection complete" : "connection failed";
        }

        /** The line as logged: the message then {@code key="value"} pairs, absent values left out. */
        public String format() {
            var b = new StringBuilder(message());
            field(b, "src.addr", srcAddr);
            field(b, "src.workload", srcWorkload);
            field(b, "src.identity", srcIdentity);
            field(b, "dst.addr", dstAddr);
            field(b, "dst.hbone_addr", dstHboneAddr);
            field(b, "dst.service", dstService);
            field(b, "dst.workload", dstWorkload);
            field(b, "dst.identity", dstIdentity);
            field(b, "direction", direction);
            field(b, "policy", policy);
            field(b, "rule", rule == null ? null : rule.toString());
            field(b, "reason", reason);
            field(b, "error", error);
            b.append(" bytes_sent=").append(bytesSent);
            b.append(" bytes_recv=").append(bytesRecv);
            b.append(" duration=\"").append(durationMs).append("ms\"");
            return b.toString();
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

    /** The SLF4J writer. */
    enum Slf4j implements AccessLog {
        INSTANCE;

        private static final Logger log = LoggerFactory.getLogger("access");

        @Override
        public void log(Entry entry) {
            if (entry.error() == null) {
                log.info("{}", entry.format());
            } else {
                log.warn("{}", entry.format());
            }
        }
    }
}
