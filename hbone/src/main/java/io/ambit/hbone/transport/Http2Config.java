package io.ambit.hbone.transport;

import io.ambit.hbone.flow.ParkingFlowController;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import java.time.Duration;

/**
 * HTTP/2 settings and abuse limits of one side of HBONE, with ztunnel's values as defaults
 * (ztunnel-reference.md §2.2). Every HBONE connection's {@link Http2FrameCodec} is built here.
 *
 * @param initialStreamWindow bytes a peer may send on one stream before we grant more (4 MiB)
 * @param connectionWindow bytes a peer may send on the whole connection before we grant more (16 MiB; four
 *     times the stream window on purpose, so one stalled stream cannot starve the others)
 * @param maxFrameSize the largest frame we accept (1 MiB)
 * @param maxHeaderListSize the largest decoded header list we accept (server 64 KiB, client 16 KiB);
 *     Netty ends the connection when a header block grows past 1.25 times this (CONTINUATION flood)
 * @param maxConcurrentStreams the streams the peer may open at once (server advertises 200); on a client
 *     this is also the soft cap of streams per pooled connection (100)
 * @param maxSendBuffer bytes queued per stream before its channel turns unwritable (server 400 KiB, client
 *     4 MiB); the relay stops reading the other side until it drains
 * @param pingInterval time between keep-alive PINGs (10 s)
 * @param pingTimeout time without a PING acknowledgement before the connection is dropped (20 s)
 * @param maxRstFramesPerWindow RST_STREAM frames accepted (and sent) per {@code rstWindow} before the
 *     connection ends with ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487; MadeYouReset, CVE-2025-55163)
 * @param rstWindow the window of {@code maxRstFramesPerWindow}
 * @param maxSmallContinuationFrames consecutive small CONTINUATION frames accepted (CVE-2024-27919)
 */
public record Http2Config(
        int initialStreamWindow,
        int connectionWindow,
        int maxFrameSize,
        int maxHeaderListSize,
        int maxConcurrentStreams,
        int maxSendBuffer,
        Duration pingInterval,
        Duration pingTimeout,
        int maxRstFramesPerWindow,
        Duration rstWindow,
        int maxSmallContinuationFrames) {

    private static final int MIB = 1024 * 1024;
    private static final int KIB = 1024;

    public Http2Config {
        positive("initialStreamWindow", initialStreamWindow);
        if (connectionWindow < initialStreamWindow) {
            throw new IllegalArgumentException("connectionWindow: " + connectionWindow
                    + " (expected: >= initialStreamWindow " + initialStreamWindow + ")");
        }
        if (maxFrameSize < Http2CodecUtil.MAX_FRAME_SIZE_LOWER_BOUND
                || maxFrameSize > Http2CodecUtil.MAX_FRAME_SIZE_UPPER_BOUND) {
            throw new IllegalArgumentException("maxFrameSize: " + maxFrameSize + " (expected: 16384 to 16777215)");
        }
        positive("maxHeaderListSize", maxHeaderListSize);
        positive("maxConcurrentStreams", maxConcurrentStreams);
        positive("maxSendBuffer", maxSendBuffer);
        positive("pingInterval", pingInterval);
        positive("pingTimeout", pingTimeout);
        positive("maxRstFramesPerWindow", maxRstFramesPerWindow);
        positive("rstWindow", rstWindow);
        if (rstWindow.toSeconds() < 1) {
            throw new IllegalArgumentException("rstWindow: " + rstWindow + " (expected: at least 1 s)");
        }
        positive("maxSmallContinuationFrames", maxSmallContinuationFrames);
    }

    /** ztunnel's inbound (port 15008) settings. */
    public static Http2Config serverDefaults() {
        return new Http2Config(
                4 * MIB,
                16 * MIB,
                MIB,
                64 * KIB,
                200,
                400 * KIB,
                Duration.ofSeconds(10),
                Duration.ofSeconds(20),
                200,
                Duration.ofSeconds(30),
                16);
    }

    /** ztunnel's connection-pool settings. */
    public static Http2Config clientDefaults() {
        return new Http2Config(
                4 * MIB,
                16 * MIB,
                MIB,
                16 * KIB,
                100,
                4 * MIB,
                Duration.ofSeconds(10),
                Duration.ofSeconds(20),
                200,
                Duration.ofSeconds(30),
                16);
    }

    public Http2Config withMaxConcurrentStreams(int streams) {
        return new Http2Config(
                initialStreamWindow,
                connectionWindow,
                maxFrameSize,
                maxHeaderListSize,
                streams,
                maxSendBuffer,
                pingInterval,
                pingTimeout,
                maxRstFramesPerWindow,
                rstWindow,
                maxSmallContinuationFrames);
    }

    public Http2Config withPing(Duration interval, Duration timeout) {
        return new Http2Config(
                initialStreamWindow,
                connectionWindow,
                maxFrameSize,
                maxHeaderListSize,
                maxConcurrentStreams,
                maxSendBuffer,
                interval,
                timeout,
                maxRstFramesPerWindow,
                rstWindow,
                maxSmallContinuationFrames);
    }

    /**
     * A frame codec for one connection. A server advertises {@code maxConcurrentStreams}; a client
     * advertises no push and counts streams itself (the pool), so Netty's own cap is the peer's setting.
     */
    public Http2FrameCodec newFrameCodec(boolean server) {
        Http2Settings settings = new Http2Settings()
                .initialWindowSize(initialStreamWindow)
                .maxFrameSize(maxFrameSize)
                .maxHeaderListSize(maxHeaderListSize);
        if (server) {
            settings.maxConcurrentStreams(maxConcurrentStreams);
        } else {
            settings.pushEnabled(false).maxConcurrentStreams(0);
        }
        Http2FrameCodecBuilder builder = new HboneCodecBuilder(server, parkingBudget(), parkingThreshold());
        int rstSeconds = (int) Math.min(Integer.MAX_VALUE, rstWindow.toSeconds());
        return builder.initialSettings(settings)
                .validateHeaders(true)
                // Our CONNECT handler answers 400 to requests that are not CONNECT, as ztunnel does; the
                // required-pseudo-header check would reset them instead.
                .validateRequiredPseudoHeaders(false)
                .decoderEnforceMaxRstFramesPerWindow(maxRstFramesPerWindow, rstSeconds)
                .encoderEnforceMaxRstFramesPerWindow(maxRstFramesPerWindow, rstSeconds)
                .decoderEnforceMaxSmallContinuationFrames(maxSmallContinuationFrames)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
                .encoderEnforceMaxQueuedControlFrames(10_000)
                .autoAckPingFrame(true)
                .build();
    }

    /**
     * Connection credit lent, at most, for bytes parked on streams whose reader stopped ({@link
     * ParkingFlowController}): the connection window, so a connection holds at most twice it
     * (32 MiB at ztunnel's 16 MiB) and other streams keep the whole window until that much is parked. 0 (Netty's plain
     * controller, parked bytes hold the connection window) with {@code -Dambit.hbone.parking=false}, for comparisons.
     */
    public int parkingBudget() {
        return ParkingFlowController.enabled() ? connectionWindow : 0;
    }

    /**
     * Unconsumed bytes a stream may hold before further ones count as parked: what a stream that keeps reading
     * holds between two reads (a read takes up to 16 frames) is not parked. 64 KiB, or a quarter of the stream
     * window if that is smaller.
     */
    public int parkingThreshold() {
        return Math.min(64 * KIB, initialStreamWindow / 4);
    }

    /**
     * Raises the connection-level receive window to exactly {@code connectionWindow} (a WINDOW_UPDATE on
     * stream 0). Call once, on the event loop, after the codec is in the pipeline of an active channel.
     *
     * <p>Netty's {@link Http2FrameCodec} widens the connection window by itself when it is added (by twice
     * the stream window's excess over 64 KiB: 8,257,538 bytes for a 4 MiB stream window), so the increment
     * is counted from the window the codec left, not from the protocol's 65,535; counted from 65,535 the
     * peer would see about 24 MiB instead of ztunnel's 16 MiB. A {@code connectionWindow} below what the
     * codec already granted cannot be taken back (HTTP/2 has no negative WINDOW_UPDATE) and stays as is.
     */
    public ChannelFuture openConnectionWindow(Channel channel) {
        int increment = connectionWindow - grantedConnectionWindow(channel);
        if (increment <= 0) {
            return channel.newSucceededFuture();
        }
        return channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(increment));
    }

    /** The connection-level receive window the channel's codec has granted so far. */
    static int grantedConnectionWindow(Channel channel) {
        Http2FrameCodec codec = channel.pipeline().get(Http2FrameCodec.class);
        if (codec == null) {
            return Http2CodecUtil.DEFAULT_WINDOW_SIZE;
        }
        Http2Connection connection = codec.connection();
        return connection.local().flowController().initialWindowSize(connection.connectionStream());
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
        }
    }

    private static void positive(String name, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
        }
    }
}
