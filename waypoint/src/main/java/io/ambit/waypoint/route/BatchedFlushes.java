package io.ambit.waypoint.route;

import io.ambit.hbone.transport.Channels;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.AttributeKey;

/**
 * Optionally ({@code -Dambit.waypoint.batchedFlushes=true}; off by default) makes an HBONE connection of the
 * waypoint flush once per event-loop turn, not once per request.
 *
 * <p>Why it exists: the waypoint writes to one connection while it handles reads from another — a request
 * read from a client's tunnel is written to an endpoint's connection, a response read from there to the
 * client's. HBONE's flush consolidation only merges the flushes made while its own connection reads, so each
 * request and each response cost a TLS record and a socket write of their own. Consolidating also when the
 * connection is not reading defers the flush to a task that runs after the loop has handled everything it
 * read in this turn: one TLS record and one write for all the requests (or responses) of the turn.
 *
 * <p>Why it is off: measured side by side (bench/run-waypoint-bench.sh, same build with and without, 3
 * rounds) it saved 13 % of the waypoint's CPU per request at saturation for HTTP/1.1 but cost 9–12 % of
 * HTTP/2 requests per second: the deferred flush holds each request back until the loop's turn ends, and on
 * a shared machine the next hop starts later. Kept as a switch for deployments that are CPU-bound on
 * HTTP/1.1.
 */
public final class BatchedFlushes {
    private static final AttributeKey<Boolean> BATCHED = AttributeKey.valueOf("ambit.waypoint.batchedFlushes");
    private static final boolean ENABLED = Boolean.getBoolean("ambit.waypoint.batchedFlushes");

    private BatchedFlushes() {}

    /** Switches {@code connection} (an HBONE TLS connection) to batched flushes, once; call on its loop. */
    public static void install(Channel connection) {
        if (!ENABLED || connection == null || connection.hasAttr(BATCHED)) {
            return;
        }
        connection.attr(BATCHED).set(Boolean.TRUE);
        ChannelPipeline p = connection.pipeline();
        ChannelHandler current = p.get(Channels.FLUSH_CONSOLIDATION);
        if (current instanceof FlushConsolidationHandler) {
            // The old handler flushes what it held when it is removed: nothing written is left behind.
            p.replace(
                    Channels.FLUSH_CONSOLIDATION,
                    Channels.FLUSH_CONSOLIDATION,
                    new FlushConsolidationHandler(
                            FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        }
    }
}
