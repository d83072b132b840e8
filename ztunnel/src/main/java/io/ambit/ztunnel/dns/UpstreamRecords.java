package io.ambit.ztunnel.dns;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.dns.DnsPtrRecord;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsSection;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * An upstream's response as a {@link DnsReply} of plain records, so that it outlives Netty's buffers and
 * can be cached and written for another client.
 *
 * <p>Why names inside rdata are decompressed here: a record's rdata may hold names as compression pointers
 * into the upstream's message (SOA in the authority of every NXDOMAIN, MX, SRV). Netty expands them for
 * CNAME, NS and PTR only; written unchanged into our answer they would point into the wrong message.
 * Netty hands rdata out as a view of the whole message with absolute indexes (its own decoder relies on
 * that for the same reason), so a pointer can be followed there. A record that cannot be read is dropped.
 */
final class UpstreamRecords {
    private UpstreamRecords() {}

    /** Bound on pointer hops in one name (a loop otherwise never ends). */
    private static final int MAX_HOPS = 64;

    static DnsReply of(DnsResponse response) {
        return new DnsReply(
                response.code().intValue() & 0xF,
                false,
                section(response, DnsSection.ANSWER),
                section(response, DnsSection.AUTHORITY),
                section(response, DnsSection.ADDITIONAL));
    }

    private static List<Rr> section(DnsResponse response, DnsSection section) {
        int n = response.count(section);
        var out = new ArrayList<Rr>(n);
        for (int i = 0; i < n; i++) {
            DnsRecord r = response.recordAt(section, i);
            if (r.type() == DnsRecordType.OPT) {
                continue; // hop-by-hop: the upstream's EDNS settings are not the client's
            }
            byte[] rdata = rdata(r);
            if (rdata != null) {
                out.add(new Rr(
                        Question.stripDot(r.name()),
                        r.type().intValue(),
                        r.dnsClass() & 0xFFFF,
                        r.timeToLive(),
                        rdata));
            }
        }
        return out;
    }

    /** The record's rdata with every name written in full, or null when it cannot be read. */
    static byte[] rdata(DnsRecord r) {
        try {
            if (r instanceof DnsPtrRecord ptr) {
                return DnsWire.nameBytes(ptr.hostname());
            }
            if (!(r instanceof DnsRawRecord raw)) {
                return null;
            }
            ByteBuf c = raw.content();
            int from = c.readerIndex();
            int to = c.writerIndex();
            int type = r.type().intValue();
            return switch (type) {
                case 6 -> withNames(c, from, to, 0, 2, 20); // SOA: mname rname serial..minimum
                case 15 -> withNames(c, from, to, 2, 1, 0); // MX: preference exchange
                case 33 -> withNames(c, from, to, 6, 1, 0); // SRV: priority weight port target
                default -> bytes(c, from, to);
            };
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** {@code prefix} plain bytes, {@code names} names, then {@code suffix} plain bytes, from {@code c}. */
    private static byte[] withNames(ByteBuf c, int from, int to, int prefix, int names, int suffix) {
        var out = new ByteArrayOutputStream(to - from + 64);
        int pos = from;
        check(pos + prefix <= to);
        out.writeBytes(bytes(c, pos, pos + prefix));
        pos += prefix;
        for (int i = 0; i < names; i++) {
            pos = readName(c, pos, to, out);
        }
        check(pos + suffix == to);
        out.writeBytes(bytes(c, pos, to));
        return out.toByteArray();
    }

    /**
     * Copies the name at {@code pos} into {@code out} as plain labels, following pointers (absolute indexes
     * into the message).
     *
     * @return the position after the name where it is written (after its first pointer, when it has one)
     */
    private static int readName(ByteBuf c, int pos, int limit, ByteArrayOutputStream out) {
        int next = -1;
        int written = 0;
        for (int hops = 0; ; ) {
            check(pos < (next < 0 ? limit : c.capacity()));
            int len = c.getUnsignedByte(pos);
            if ((len & 0xC0) == 0xC0) {
                check(++hops <= MAX_HOPS && pos + 1 < c.capacity());
                if (next < 0) {
                    next = pos + 2;
                }
                pos = ((len & 0x3F) << 8) | c.getUnsignedByte(pos + 1);
                continue;
            }
            check((len & 0xC0) == 0);
            out.write(len);
            written += len + 1;
            check(written <= 255);
            if (len == 0) {
                break;
            }
            check(pos + 1 + len <= c.capacity());
            out.writeBytes(bytes(c, pos + 1, pos + 1 + len));
            pos += 1 + len;
        }
        int after = next >= 0 ? next : pos + 1;
        check(after <= limit);
        return after;
    }

    private static byte[] bytes(ByteBuf c, int from, int to) {
        var b = new byte[to - from];
        c.getBytes(from, b);
        return b;
    }

    private static void check(boolean ok) {
        if (!ok) {
            throw new IllegalArgumentException("malformed rdata");
        }
    }
}
