package io.ambit.ztunnel.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes answers on the wire (RFC 1035 §4.1). Written here rather than with Netty's response encoders
 * because the proxy must know an answer's size to truncate it: an answer larger than the client's UDP
 * limit is sent as the header and question alone with TC set, and the client asks again over TCP.
 * Names are written without compression (every name is at most 255 bytes; answers stay small).
 */
final class DnsWire {
    private DnsWire() {}

    /** The largest message TCP's two-byte length prefix can frame. */
    static final int TCP_LIMIT = 65535;

    /**
     * The UDP payload size this proxy advertises in its OPT record: what it reads in one datagram with room
     * to spare, and the size DNS Flag Day 2020 settled on as safe from fragmentation.
     */
    static final int ADVERTISED_UDP_SIZE = 1232;

    /**
     * The answer to {@code q} as one DNS message, at most {@code limit} bytes: when the full answer is larger,
     * the header and question only, with TC set.
     *
     * @return a new buffer the caller owns (and releases or writes)
     */
    static ByteBuf encode(ByteBufAllocator alloc, Question q, DnsReply reply, int limit) {
        ByteBuf out = alloc.buffer(512);
        try {
            write(out, q, reply, false);
            if (out.readableBytes() > limit) {
                out.clear();
                write(out, q, DnsReply.error(reply.rcode()), true);
            }
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    private static void write(ByteBuf out, Question q, DnsReply reply, boolean truncated) {
        out.writeShort(q.id());
        int flags = 0x8000 // QR: a response
                | (q.opcode() & 0xF) << 11
                | (reply.authoritative() ? 0x0400 : 0)
                | (truncated ? 0x0200 : 0)
                | (q.recursionDesired() ? 0x0100 : 0)
                | 0x0080 // RA: this proxy recurses (through its upstreams)
                | (reply.rcode() & 0xF);
        out.writeShort(flags);
        out.writeShort(q.name() == null ? 0 : 1);
        out.writeShort(reply.answers().size());
        out.writeShort(reply.authority().size());
        out.writeShort(reply.additional().size() + (q.edns() ? 1 : 0));
        if (q.name() != null) {
            writeName(out, q.name());
            out.writeShort(q.type());
            out.writeShort(q.dnsClass());
        }
        writeRecords(out, reply.answers());
        writeRecords(out, reply.authority());
        writeRecords(out, reply.additional());
        if (q.edns()) {
            // OPT (RFC 6891): root owner, our UDP size as class, extended rcode 0, version 0, no flags, no options
            out.writeByte(0);
            out.writeShort(41);
            out.writeShort(ADVERTISED_UDP_SIZE);
            out.writeInt(0);
            out.writeShort(0);
        }
    }

    private static void writeRecords(ByteBuf out, List<Rr> records) {
        for (var r : records) {
            writeName(out, r.name());
            out.writeShort(r.type());
            out.writeShort(r.dnsClass());
            out.writeInt((int) Math.min(r.ttl(), 0x7FFFFFFFL));
            r.writeRdata(out);
        }
    }

    /**
     * Writes a dotted name as labels (the root for an empty name).
     *
     * @throws IllegalArgumentException for an empty label, a label over 63 bytes or a name over 255
     */
    static void writeName(ByteBuf out, String name) {
        out.writeBytes(nameBytes(name));
    }

    /** A dotted name as wire labels, ending with the root label. */
    static byte[] nameBytes(String name) {
        String n = Question.stripDot(name);
        if (n.isEmpty()) {
            return new byte[] {0};
        }
        byte[] text = n.getBytes(StandardCharsets.UTF_8);
        if (text.length + 2 > 255) {
            throw new IllegalArgumentException("name of " + (text.length + 2) + " bytes (expected: at most 255)");
        }
        byte[] wire = new byte[text.length + 2];
        int labelStart = 0;
        for (int i = 0; i <= text.length; i++) {
            if (i == text.length || text[i] == '.') {
                int len = i - labelStart;
                if (len == 0 || len > 63) {
                    throw new IllegalArgumentException(
                            "label of " + len + " bytes in \"" + n + "\" (expected: 1 to 63)");
                }
                wire[labelStart] = (byte) len;
                System.arraycopy(text, labelStart, wire, labelStart + 1, len);
                labelStart = i + 1;
            }
        }
        wire[wire.length - 1] = 0;
        return wire;
    }
}
