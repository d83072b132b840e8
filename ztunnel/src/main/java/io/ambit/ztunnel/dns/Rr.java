package io.ambit.ztunnel.dns;

import java.util.Arrays;

/**
 * One resource record as this proxy keeps and writes it: its owner name (dotted, no trailing dot), type,
 * class, TTL in seconds, and its rdata as wire bytes with every name in it written out in full (never a
 * compression pointer, which would point into some other message). Immutable: cached answers are shared.
 */
record Rr(String name, int type, int dnsClass, long ttl, byte[] rdata) {
    Rr {
        rdata = rdata.clone();
    }

    @Override
    public byte[] rdata() {
        return rdata.clone();
    }

    /** Writes rdata without a copy (the encoder's path). */
    void writeRdata(io.netty.buffer.ByteBuf out) {
        out.writeShort(rdata.length);
        out.writeBytes(rdata);
    }

    Rr withTtl(long value) {
        return new Rr(name, type, dnsClass, value, rdata);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Rr r
                && r.type == type
                && r.dnsClass == dnsClass
                && r.ttl == ttl
                && r.name.equals(name)
                && Arrays.equals(r.rdata, rdata);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(rdata);
    }

    @Override
    public String toString() {
        return name + " " + ttl + " type" + type + " (" + rdata.length + " bytes)";
    }
}
