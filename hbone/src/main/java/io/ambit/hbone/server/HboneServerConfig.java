package io.ambit.hbone.server;

import io.ambit.hbone.transport.Http2Config;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Static configuration of one HBONE listener.
 *
 * @param bind where to listen (ztunnel: port 15008)
 * @param http2 HTTP/2 settings and limits
 * @param maxEarlyDataBytes bytes of tunnel data held per stream while its CONNECT is being decided; beyond
 *     that the stream is not read, so HTTP/2 flow control stops the client (CVE-2025-64763)
 * @param decisionTimeout how long a {@link ConnectHandler} may take before the stream is answered 503
 * @param directStreams CONNECT streams without a Netty child channel each ({@link DirectStreams}: cheaper per DATA
 *     frame and per open tunnel); only for handlers that answer {@link ConnectResponse.Tunnel} or reject, never
 *     {@link ConnectResponse.Accept} (a hand-over needs the child channel; it is refused 503 here). Off unless asked
 *     for, or {@code -Dambit.hbone.directStreams=true}
 */
public record HboneServerConfig(
        InetSocketAddress bind,
        Http2Config http2,
        int maxEarlyDataBytes,
        Duration decisionTimeout,
        boolean directStreams) {

    /** Child channels per stream unless {@code -Dambit.hbone.directStreams=true}. */
    public HboneServerConfig(
            InetSocketAddress bind, Http2Config http2, int maxEarlyDataBytes, Duration decisionTimeout) {
        this(bind, http2, maxEarlyDataBytes, decisionTimeout, DirectStreams.enabled());
    }

    public HboneServerConfig {
        if (bind == null) {
            throw new IllegalArgumentException("bind: null (expected an address and port)");
        }
        if (maxEarlyDataBytes <= 0) {
            throw new IllegalArgumentException("maxEarlyDataBytes: " + maxEarlyDataBytes + " (expected: > 0)");
        }
        if (decisionTimeout == null || decisionTimeout.isNegative() || decisionTimeout.isZero()) {
            throw new IllegalArgumentException("decisionTimeout: " + decisionTimeout + " (expected: > 0)");
        }
    }

    /** ztunnel's settings on {@code bind}: 64 KiB early data per stream, 30 s to decide. */
    public static HboneServerConfig defaults(InetSocketAddress bind) {
        return new HboneServerConfig(bind, Http2Config.serverDefaults(), 64 * 1024, Duration.ofSeconds(30));
    }

    public HboneServerConfig withHttp2(Http2Config http2) {
        return new HboneServerConfig(bind, http2, maxEarlyDataBytes, decisionTimeout, directStreams);
    }

    public HboneServerConfig withMaxEarlyDataBytes(int bytes) {
        return new HboneServerConfig(bind, http2, bytes, decisionTimeout, directStreams);
    }

    public HboneServerConfig withDecisionTimeout(Duration timeout) {
        return new HboneServerConfig(bind, http2, maxEarlyDataBytes, timeout, directStreams);
    }

    /** See {@code directStreams}: a node proxy, whose streams all go to an upstream socket, turns it on. */
    public HboneServerConfig withDirectStreams(boolean direct) {
        return new HboneServerConfig(bind, http2, maxEarlyDataBytes, decisionTimeout, direct);
    }
}
