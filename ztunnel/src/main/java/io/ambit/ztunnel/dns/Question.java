package io.ambit.ztunnel.dns;

import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsSection;
import java.util.Locale;

/**
 * The parts of a client's query the proxy uses, copied out of Netty's decoded (reference-counted) message
 * so that the message can be released at once: the header fields echoed in the answer, the one question,
 * and the UDP payload size the client accepts (EDNS, RFC 6891; 512 without).
 *
 * @param name     the question name as the client wrote it, without the trailing dot (echoed as is: some
 *                 clients randomise letter case and check it)
 * @param udpLimit the largest UDP answer the client takes, in bytes
 * @param edns     whether the query had an OPT record (the answer then has one too, RFC 6891 §7)
 */
record Question(
        int id, int opcode, boolean recursionDesired, String name, int type, int dnsClass, int udpLimit, boolean edns) {
    /** RFC 1035's limit for UDP answers without EDNS. */
    static final int CLASSIC_UDP_LIMIT = 512;
    /** Larger EDNS sizes are taken as this (the size most resolvers now advertise; fragmentation beyond). */
    static final int MAX_UDP_LIMIT = 4096;

    static final int CLASS_IN = 1;

    /** The question name in lower case, for lookups. */
    String lowerName() {
        return name.toLowerCase(Locale.ROOT);
    }

    /**
     * The query's question, or null when it has not exactly one (answered FORMERR by the caller, with
     * {@link #headerOnly}).
     */
    static Question of(DnsQuery query) {
        if (query.count(DnsSection.QUESTION) != 1) {
            return null;
        }
        DnsRecord q = query.recordAt(DnsSection.QUESTION);
        int limit = CLASSIC_UDP_LIMIT;
        boolean edns = false;
        for (int i = 0, n = query.count(DnsSection.ADDITIONAL); i < n; i++) {
            DnsRecord r = query.recordAt(DnsSection.ADDITIONAL, i);
            if (r.type() == DnsRecordType.OPT) {
                // OPT's class field carries the requestor's UDP payload size
                limit = Math.clamp(r.dnsClass() & 0xFFFF, CLASSIC_UDP_LIMIT, MAX_UDP_LIMIT);
                edns = true;
            }
        }
        return new Question(
                query.id(),
                query.opCode().byteValue() & 0xF,
                query.isRecursionDesired(),
                stripDot(q.name()),
                q.type().intValue(),
                q.dnsClass() & 0xFFFF,
                limit,
                edns);
    }

    /** A stand-in for a query whose question cannot be used: its header is echoed with no question. */
    static Question headerOnly(DnsQuery query) {
        return new Question(
                query.id(),
                query.opCode().byteValue() & 0xF,
                query.isRecursionDesired(),
                null,
                0,
                0,
                CLASSIC_UDP_LIMIT,
                false);
    }

    boolean isStandardQuery() {
        return opcode == (DnsOpCode.QUERY.byteValue() & 0xF);
    }

    static String stripDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}
