package io.ambit.hbone.flow;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2LocalFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import java.net.SocketAddress;

/**
 * The receive side of one HBONE connection's flow control at one moment: what holds its window. A debug view
 * (which connection's credit is held by whose unread bytes), taken on the connection's event loop.
 *
 * @param peer the remote address
 * @param streams streams open
 * @param receiveWindow bytes the peer may still send on the connection before a WINDOW_UPDATE
 * @param unconsumedBytes bytes received on streams and not yet read by their channels
 * @param streamsHoldingBytes streams holding unread bytes
 * @param streamsStillFilling streams that hold unread bytes and whose own window is still open: the peer can send
 *     them more (while the connection window allows)
 * @param parkedBytes of the unconsumed bytes, those parked on stalled streams ({@link ParkingFlowController}; 0
 *     without it)
 * @param lentCredit credit lent to the connection window for parked bytes (0 without a {@link
 *     ParkingFlowController})
 * @param congested whether new streams should go to another connection
 */
public record ConnectionFlow(
        SocketAddress peer,
        int streams,
        int receiveWindow,
        long unconsumedBytes,
        int streamsHoldingBytes,
        int streamsStillFilling,
        long parkedBytes,
        int lentCredit,
        boolean congested) {

    /** The state of {@code channel} (an HBONE connection); null if it has no HTTP/2 codec. Call on its loop. */
    public static ConnectionFlow of(Channel channel) {
        Http2FrameCodec codec = channel.pipeline().get(Http2FrameCodec.class);
        return codec == null ? null : of(codec.connection(), channel.remoteAddress());
    }

    /** The state of any HTTP/2 {@code connection} (e.g. one carried inside a tunnel). Call on its event loop. */
    public static ConnectionFlow of(Http2Connection connection, SocketAddress peer) {
        Http2LocalFlowController local = connection.local().flowController();
        long[] unconsumed = new long[1];
        int[] filling = new int[1];
        int[] holding = new int[1];
        try {
            connection.forEachActiveStream(s -> {
                int u = local.unconsumedBytes(s);
                unconsumed[0] += u;
                if (u > 0) {
                    holding[0]++;
                }
                if (u > 0 && local.windowSize(s) > 0 && s.state() != Http2Stream.State.HALF_CLOSED_REMOTE) {
                    filling[0]++;
                }
                return true;
            });
        } catch (Exception e) {
            throw new IllegalStateException(e); // the visitor throws nothing
        }
        ParkingFlowController parking = local instanceof ParkingFlowController p ? p : null;
        return new ConnectionFlow(
                peer,
                connection.numActiveStreams(),
                local.windowSize(connection.connectionStream()),
                unconsumed[0],
                holding[0],
                filling[0],
                parking == null ? 0 : parking.parkedBytes(),
                parking == null ? 0 : parking.lentCredit(),
                parking != null && parking.congested());
    }
}
