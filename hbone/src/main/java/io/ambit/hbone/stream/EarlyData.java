package io.ambit.hbone.stream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameStream;
import java.util.ArrayDeque;

/**
 * What a stream received before its relay started — on a server, tunnel bytes before the answer (never parsed or
 * forwarded before a 200, CVE-2025-64763); on a client, what the server sent after its 200 before the caller relays —
 * held in order, then replayed into the {@link StreamTunnel} or dropped. Bounded as a child channel with an {@code
 * InboundHold} is: the first {@code limit} bytes are credited back to the peer as they arrive, the rest stay
 * unconsumed, so the peer's window stops it. Event-loop only; one per stream, created on its first early byte.
 */
public final class EarlyData {
    private final ArrayDeque<Held> held = new ArrayDeque<>(2);
    private long heldBytes;

    /** Holds a DATA frame's payload (taking it over), crediting it back while under {@code limit} bytes held. */
    public void data(FrameStreams connection, Http2DataFrame data, int limit) {
        ByteBuf payload = data.content();
        int flow = data.initialFlowControlledBytes();
        int owed = heldBytes < limit ? 0 : flow;
        connection.consume(data.stream(), flow - owed);
        heldBytes += payload.readableBytes();
        if (payload.isReadable() || owed > 0) {
            held.add(new Held(payload, owed, false));
        } else {
            payload.release();
        }
    }

    /** The peer ended the stream (after what was held before). */
    public void end() {
        held.add(Held.END);
    }

    /** Releases what is held, crediting the bytes still owed to the peer. */
    public void drop(FrameStreams connection, Http2FrameStream stream) {
        for (Held h; (h = held.poll()) != null; ) {
            if (h.payload() != null) {
                h.payload().release();
            }
            connection.consume(stream, h.owed());
        }
        heldBytes = 0;
    }

    Held poll() {
        return held.poll();
    }
}
