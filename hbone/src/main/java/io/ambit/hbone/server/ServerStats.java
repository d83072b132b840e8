package io.ambit.hbone.server;

/**
 * A snapshot of an HBONE server's counts.
 *
 * @param handshakes TLS handshakes completed and verified
 * @param handshakeFailures handshakes that failed or whose peer was refused
 * @param connectionsOpen connections open now
 * @param streamsOpen CONNECT streams open now
 * @param accepted CONNECTs answered 200
 * @param rejected CONNECTs answered otherwise
 */
public record ServerStats(
        long handshakes,
        long handshakeFailures,
        long connectionsOpen,
        long streamsOpen,
        long accepted,
        long rejected) {}
