package io.ambit.ztunnel.dns;

import java.util.List;

/**
 * What the proxy answers one question with, before it is written for a transport: the response code, whether
 * the mesh answered it (authoritative), and the three record sections. The header's id, opcode, RD bit and
 * question come from the query when it is written ({@link DnsWire}).
 */
record DnsReply(int rcode, boolean authoritative, List<Rr> answers, List<Rr> authority, List<Rr> additional) {
    static final int NOERROR = 0;
    static final int FORMERR = 1;
    static final int SERVFAIL = 2;
    static final int NXDOMAIN = 3;
    static final int NOTIMP = 4;
    static final int REFUSED = 5;

    DnsReply {
        answers = List.copyOf(answers);
        authority = List.copyOf(authority);
        additional = List.copyOf(additional);
    }

    static DnsReply error(int rcode) {
        return new DnsReply(rcode, false, List.of(), List.of(), List.of());
    }

    static DnsReply mesh(List<Rr> answers) {
        return new DnsReply(NOERROR, true, answers, List.of(), List.of());
    }
}
