package io.ambit.hbone.stream;

import io.netty.buffer.ByteBuf;

/**
 * Received tunnel data not passed on yet: a DATA payload and the bytes of it not yet credited back to the peer, or
 * the end of the stream.
 */
record Held(ByteBuf payload, int owed, boolean end) {
    static final Held END = new Held(null, 0, true);
}
