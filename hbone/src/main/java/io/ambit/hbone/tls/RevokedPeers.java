package io.ambit.hbone.tls;

import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.cert.Revocations;
import io.ambit.hbone.cert.Subscription;
import io.ambit.hbone.metrics.HboneMetrics;
import io.ambit.hbone.transport.Channels;
import io.netty.channel.Channel;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends live HBONE connections whose peer a new CRL revokes (ztunnel's {@code
 * crl_*_terminates_existing_connection_on_revocation}), for the server and the pool alike.
 *
 * <p>Each connection is checked on its own event loop, after whatever that loop already had queued. A
 * handshake completing there meanwhile is therefore either seen here (its {@link TlsPeer} is set) or
 * checked against the new CRL by {@code verifyPeer} itself, since the CRL is published before the
 * listeners run: no connection slips between the two.
 */
public final class RevokedPeers {
    private static final Logger log = LoggerFactory.getLogger(RevokedPeers.class);

    private RevokedPeers() {}

    /**
     * From now on, each CRL update of {@code checker} closes, abruptly, the {@code connections} whose peer
     * chain it revokes, counting each in {@code meters}. Nothing without a checker.
     *
     * @param connections the live connections, read at each update (a concurrent set or a channel group)
     * @return stops watching
     */
    public static Subscription closeOnRevocation(
            Optional<RevocationChecker> checker, Iterable<Channel> connections, HboneMetrics.Side meters) {
        return checker.map(c -> c.addListener(revoked -> closeRevoked(connections, revoked, meters)))
                .orElse(() -> {});
    }

    private static void closeRevoked(Iterable<Channel> connections, Revocations revoked, HboneMetrics.Side meters) {
        for (Channel connection : connections) {
            connection.eventLoop().execute(() -> {
                TlsPeer peer = connection.attr(TlsPeer.ATTRIBUTE).get();
                if (peer != null && connection.isOpen() && revoked.isRevoked(peer.chain())) {
                    meters.crlRejection();
                    log.info(
                            "closing HBONE connection {} (reporter {}): the certificate of {} is revoked by the CRL"
                                    + " of {}",
                            connection,
                            meters.reporter(),
                            peer.identity(),
                            revoked.thisUpdate().orElse(null));
                    Channels.closeAbruptly(connection);
                }
            });
        }
    }
}
