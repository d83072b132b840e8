package io.ambit.hbone.transport;

import io.ambit.hbone.flow.ParkingFlowController;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;

/**
 * Netty's frame-codec builder making an {@link HboneFrameCodec} (RFC 9113's answers where Netty's differ), with
 * {@link RecentResets} around the finished encoder (outside Netty's own limits, so that the resets it leaves out
 * are not counted either), and a connection whose outgoing data
 * is shared out by {@link UniformStreamByteDistributor}. Otherwise as {@link
 * Http2FrameCodecBuilder#forServer()} and {@link Http2FrameCodecBuilder#forClient()}.
 *
 * <p>Why the uniform distributor: HBONE never sends or honours HTTP/2 priorities (every stream is one TCP
 * connection of equal standing), and Netty's default, {@code WeightedFairQueueByteDistributor}, keeps a
 * priority-tree node with its own queue per stream and a few retained closed streams per connection, all
 * unused here. The uniform one gives each stream with data an equal share per write, which is the
 * fairness the relay needs.
 *
 * <p>The receive side is a {@link ParkingFlowController} (unless {@code parkingBudget} is 0): bytes parked on a
 * stream whose reader stopped do not hold the whole connection's window (see there why).
 */
final class HboneCodecBuilder extends Http2FrameCodecBuilder {
    /** Netty's default number of reserved (pushed) streams; HBONE has no push, so it only bounds. */
    private static final int MAX_RESERVED_STREAMS = 100;

    /**
     * @param parkingBudget connection credit lent for bytes parked on stalled streams, at most; 0: Netty's plain
     *     controller (parked bytes hold the connection window)
     * @param parkingThreshold unconsumed bytes a stream holds before further ones count as parked
     */
    HboneCodecBuilder(boolean server, int parkingBudget, int parkingThreshold) {
        // The connection is made here (not by the builder) to choose its flow controller's distributor; a
        // builder given a connection takes the client/server role from it and must not be told again.
        Http2Connection connection = new DefaultHttp2Connection(server, MAX_RESERVED_STREAMS);
        connection
                .remote()
                .flowController(
                        new DefaultHttp2RemoteFlowController(connection, new UniformStreamByteDistributor(connection)));
        if (parkingBudget > 0) {
            connection.local().flowController(new ParkingFlowController(connection, parkingBudget, parkingThreshold));
        }
        connection(connection);
        gracefulShutdownTimeoutMillis(0); // as forServer() and forClient()
    }

    @Override
    protected Http2FrameCodec build(
            Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings initialSettings) {
        HboneFrameCodec codec = new HboneFrameCodec(
                new RecentResets(encoder), decoder, initialSettings, decoupleCloseAndGoAway(), flushPreface());
        codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
        return codec;
    }
}
