package io.ambit.hbone.flow;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2LocalFlowController;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameWriter;
import io.netty.handler.codec.http2.Http2LocalFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.internal.PlatformDependent;

/**
 * The receive side of an HBONE connection's flow control: Netty's, except that bytes parked on a stream whose
 * reader has stopped do not keep holding the connection's window, up to a bounded budget.
 *
 * <p><b>Why.</b> In HTTP/2 a received byte holds credit twice, on its stream's window and on the connection's,
 * until it is consumed. A stream whose reader stopped (the waypoint relaying a response to a client that reads
 * slowly turns reading of that upstream stream off) keeps up to its whole stream window (4 MiB) unconsumed, so
 * four such streams hold ztunnel's whole 16 MiB connection window, and every other stream of the connection — other
 * clients' requests, when the connection is the waypoint's to an endpoint's node — gets no byte more: they stall
 * until the slow readers are cut. (Found with slowhttptest -X: a legitimate curl got 408 after the stream idle
 * timeout; seen at the waypoint's upstream connection with its receive window at 0 and all of it unconsumed on
 * the slow readers' streams.)
 *
 * <p><b>What.</b> Bytes a stream holds unconsumed beyond {@code threshold} are <i>parked</i>. For parked bytes this
 * controller lends the connection window the same amount of credit (it raises the connection's target window, and
 * the peer gets a WINDOW_UPDATE as if they had been consumed: see {@code grantIfOwed} for when), at most {@code
 * budget} in all, and takes it back as
 * they are consumed or their stream ends (lowering the target; no negative update exists or is needed: the next
 * WINDOW_UPDATE is just later). Stream windows are untouched, so a stalled stream still stops its own sender at its
 * window, and the connection window still paces the connection: what the peer may have sent and we hold is at most
 * connection window + budget (so memory stays bounded: 32 MiB per connection at ztunnel's 16 MiB window and a budget
 * of the same size), and other streams keep the connection window (less {@code threshold} per stalled stream) until
 * parked bytes pass the budget: with ztunnel's windows, eight streams that each hold their whole 4 MiB. A
 * stream that keeps reading stays below the threshold: nothing is lent, the wire is as with Netty's controller.
 *
 * <p>{@link #congested()} tells a pool to put new streams on another connection once half the budget is parked
 * (ztunnel opens another connection when one has no stream slot left; this is the same for credit).
 *
 * <p>Called by Netty on the connection's event loop only; {@link #parkedBytes()} and {@link #congested()} may be
 * read from any thread.
 */
public final class ParkingFlowController implements Http2LocalFlowController {
    private final Http2Connection connection;
    private final DefaultHttp2LocalFlowController netty;
    private final Http2Connection.PropertyKey parkedKey;
    private final int budget;
    private final int threshold;
    private ChannelHandlerContext ctx;

    private int lent; // credit lent to the connection window now; <= budget (event loop only)
    private volatile long parked; // Σ parked bytes over streams (written on the event loop)

    private static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("ambit.hbone.parking", "true"));

    /** Netty's default ratio: a WINDOW_UPDATE once half the window is owed. */
    private static final float RATIO = 0.5f;

    /** A ratio that makes Netty send the update it owes now (its ratio must stay below 1). */
    private static final float NOW = 0.999999f;

    /** Per stream, allocated when it first parks (a stream that keeps reading never gets one). */
    private static final class Parked {
        int counted; // this stream's bytes counted in parked
        int lent; // credit lent for them
    }

    /**
     * @param budget credit lent for parked bytes at most, per connection (> 0)
     * @param threshold unconsumed bytes a stream holds before further ones count as parked (>= 0): what a reading
     *     stream holds between two reads is not parked
     */
    public ParkingFlowController(Http2Connection connection, int budget, int threshold) {
        if (budget <= 0) {
            throw new IllegalArgumentException("budget: " + budget + " (expected: > 0)");
        }
        if (threshold < 0) {
            throw new IllegalArgumentException("threshold: " + threshold + " (expected: >= 0)");
        }
        this.connection = connection;
        this.budget = budget;
        this.threshold = threshold;
        this.netty = new DefaultHttp2LocalFlowController(connection);
        this.parkedKey = connection.newKey();
        // After Netty's own listener (registered by its constructor), which consumes what a closing stream left.
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                Parked p = stream.getProperty(parkedKey);
                if (p != null) {
                    stream.removeProperty(parkedKey);
                    parked -= p.counted;
                    giveBack(p, p.lent);
                    if (grantIfOwed() && ctx != null) {
                        ctx.flush();
                    }
                }
            }
        });
    }

    /**
     * Whether connections should get one: yes, unless {@code -Dambit.hbone.parking=false} (Netty's plain controller,
     * parked bytes hold the connection window: the behaviour before, for comparisons).
     */
    public static boolean enabled() {
        return ENABLED;
    }

    /** The controller of {@code channel}'s HBONE codec, or null when it has none (not an HBONE connection). */
    public static ParkingFlowController of(Channel channel) {
        Http2FrameCodec codec = channel.pipeline().get(Http2FrameCodec.class);
        return codec != null && codec.connection().local().flowController() instanceof ParkingFlowController p
                ? p
                : null;
    }

    /** Bytes parked on stalled streams of this connection now. */
    public long parkedBytes() {
        return parked;
    }

    /** Credit lent to the connection window now (event loop only). */
    public int lentCredit() {
        return lent;
    }

    /** Whether half the budget or more is parked: new streams should go to another connection. */
    public boolean congested() {
        return parked >= budget / 2;
    }

    @Override
    public void receiveFlowControlledFrame(Http2Stream stream, ByteBuf data, int padding, boolean endOfStream)
            throws Http2Exception {
        netty.receiveFlowControlledFrame(stream, data, padding, endOfStream);
        if (stream != null
                && stream.id() != Http2CodecUtil.CONNECTION_STREAM_ID
                && stream.state() != Http2Stream.State.CLOSED) {
            int excess = netty.unconsumedBytes(stream) - threshold;
            if (excess > 0) {
                park(stream, excess);
                grantIfOwed();
            }
        }
    }

    @Override
    public boolean consumeBytes(Http2Stream stream, int numBytes) throws Http2Exception {
        Parked p = stream == null ? null : stream.getProperty(parkedKey);
        if (p != null) {
            // Settle before Netty returns the bytes: the window update it may send then counts only credit still lent.
            int remaining = Math.max(0, netty.unconsumedBytes(stream) - numBytes);
            int excess = Math.max(0, remaining - threshold);
            if (excess < p.counted) {
                parked -= p.counted - excess;
                p.counted = excess;
            }
            if (p.lent > excess) {
                giveBack(p, p.lent - excess);
            }
        }
        boolean wrote = netty.consumeBytes(stream, numBytes);
        return (p != null && grantIfOwed()) || wrote;
    }

    private void park(Http2Stream stream, int excess) throws Http2Exception {
        Parked p = stream.getProperty(parkedKey);
        if (p == null) {
            p = new Parked();
            stream.setProperty(parkedKey, p);
        }
        if (excess > p.counted) {
            parked += excess - p.counted;
            p.counted = excess;
        }
        int lend = Math.min(excess - p.lent, budget - lent);
        if (lend > 0) {
            p.lent += lend;
            lent += lend;
            // Raises the connection's target window; Netty sends the WINDOW_UPDATE when its ratio says so.
            netty.incrementWindowSize(connection.connectionStream(), lend);
        }
    }

    /**
     * Sends the connection's WINDOW_UPDATE now when credit is lent and enough is owed. Netty owes an update once
     * half the window was consumed since the last one, but parked bytes are never consumed: counted its way, credit
     * lent for them would wait for other streams' consumption (and never come while the parked bytes hold more than
     * half the window). So with credit lent, what is owed (lent or consumed) is granted once it is worth a frame's
     * worth and the peer's window is down to half, or once half a window is owed, as Netty would.
     *
     * @return whether a WINDOW_UPDATE was written (not flushed)
     */
    private boolean grantIfOwed() {
        if (lent == 0) {
            return false; // Netty's own rule is the rule
        }
        Http2Stream c0 = connection.connectionStream();
        int window = netty.windowSize(c0);
        long processed = (long) window + netty.unconsumedBytes(c0);
        int initial = netty.initialWindowSize(c0);
        long owed = initial - processed;
        int base = initial - lent; // the window without loans
        if (owed >= Math.max(16 * 1024, base / 16) && (window <= base / 2 || owed >= base / 2)) {
            try {
                netty.windowUpdateRatio(c0, NOW);
                netty.windowUpdateRatio(c0, RATIO);
            } catch (Http2Exception e) {
                PlatformDependent.throwException(e);
            }
            return true;
        }
        return false;
    }

    private void giveBack(Parked p, int amount) {
        if (amount <= 0) {
            return;
        }
        p.lent -= amount;
        lent -= amount;
        try {
            netty.incrementWindowSize(connection.connectionStream(), -amount);
        } catch (Http2Exception e) {
            // Lowering a target window sends nothing and cannot fail; rethrown unchecked if Netty ever says otherwise.
            PlatformDependent.throwException(e);
        }
    }

    // The rest is Netty's controller as it is.

    @Override
    public Http2LocalFlowController frameWriter(Http2FrameWriter frameWriter) {
        netty.frameWriter(frameWriter);
        return this;
    }

    @Override
    public void channelHandlerContext(ChannelHandlerContext ctx) throws Http2Exception {
        this.ctx = ctx;
        netty.channelHandlerContext(ctx);
    }

    @Override
    public void initialWindowSize(int newWindowSize) throws Http2Exception {
        netty.initialWindowSize(newWindowSize);
    }

    @Override
    public int initialWindowSize() {
        return netty.initialWindowSize();
    }

    @Override
    public int windowSize(Http2Stream stream) {
        return netty.windowSize(stream);
    }

    @Override
    public int initialWindowSize(Http2Stream stream) {
        return netty.initialWindowSize(stream);
    }

    @Override
    public void incrementWindowSize(Http2Stream stream, int delta) throws Http2Exception {
        netty.incrementWindowSize(stream, delta);
    }

    @Override
    public int unconsumedBytes(Http2Stream stream) {
        return netty.unconsumedBytes(stream);
    }
}
