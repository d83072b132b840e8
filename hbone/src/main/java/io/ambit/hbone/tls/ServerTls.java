package io.ambit.hbone.tls;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.PeerIdentities.Role;
import io.ambit.hbone.identity.SpiffeId;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * The server side of HBONE TLS for one identity. Each new connection gets an {@link SslHandler} from the
 * context of the certificate the supplier returns at that moment: when the certificate rotates, the next
 * handshake presents the new one, while connections already up keep theirs. A context is rebuilt only
 * when the supplier returns a different instance. With a {@link RevocationChecker}, clients whose chain
 * the CRL revokes are refused in the handshake.
 */
public final class ServerTls implements AutoCloseable {
    private final Supplier<WorkloadCertificate> certificates;
    private final TlsSettings settings;
    private final RevocationChecker revocations; // null: no CRL
    private TlsContextFactory.Built current; // guarded by this
    private volatile Set<String> trustDomains = Set.of(); // of the current certificate, for verifyPeer

    /** Presents what {@code certificates} returns, without a CRL. */
    public ServerTls(Supplier<WorkloadCertificate> certificates, TlsSettings settings) {
        this(certificates, settings, null);
    }

    /**
     * Presents what {@code certificates} returns at each new connection (or refuses the connection while it
     * returns {@code null}), and refuses clients revoked by {@code revocations} ({@code null}: no CRL).
     */
    public ServerTls(Supplier<WorkloadCertificate> certificates, TlsSettings settings, RevocationChecker revocations) {
        this.certificates = certificates;
        this.settings = settings;
        this.revocations = revocations;
    }

    /**
     * Presents {@code manager}'s current certificate for {@code identity}, read at each new connection, so
     * a rotation reaches the next handshake. The certificate is fetched ahead of time; until the manager
     * holds a valid one, connections are refused (ztunnel's {@code IDENTITY_ERROR}).
     */
    public static ServerTls forIdentity(
            CertificateManager manager, SpiffeId identity, TlsSettings settings, RevocationChecker revocations) {
        manager.prefetch(identity);
        return new ServerTls(() -> manager.current(identity).orElse(null), settings, revocations);
    }

    public TlsSettings settings() {
        return settings;
    }

    /** The CRL clients are checked against, if any. */
    public Optional<RevocationChecker> revocations() {
        return Optional.ofNullable(revocations);
    }

    /**
     * A handler for one accepted connection, presenting the current certificate. Add it to the pipeline
     * straight away: its handshake future is what releases per-connection state.
     *
     * @throws SSLException when there is no current certificate or no context can be built from it
     */
    public SslHandler newHandler(ByteBufAllocator alloc) throws SSLException {
        WorkloadCertificate cert = certificates.get();
        if (cert == null) {
            throw new SSLException("no valid workload certificate to present (not issued yet, or expired)");
        }
        TlsContextFactory.Built built = contextFor(cert);
        SslHandler handler;
        try {
            handler = built.context().newHandler(alloc); // the engine keeps the context alive
        } finally {
            ReferenceCountUtil.release(built.context());
        }
        TlsContextFactory.disableResumption(handler.engine());
        handler.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
        return handler;
    }

    /**
     * Checks a completed handshake and returns the client it authenticated.
     *
     * @throws SSLException when the negotiated parameters or the identity are not acceptable, or the client
     *     is revoked by now
     */
    public TlsPeer verifyPeer(SslHandler handler) throws SSLException {
        Set<String> accepted = trustDomains;
        return HandshakeCheck.peer(
                handler, settings, Role.CLIENT, id -> accepted.contains(id.trustDomain()), revocations);
    }

    private synchronized TlsContextFactory.Built contextFor(WorkloadCertificate cert) throws SSLException {
        TlsContextFactory.Built built = current;
        if (built == null || built.certificate() != cert) {
            TlsContextFactory.Built fresh = TlsContextFactory.server(cert, settings, revocations);
            current = fresh;
            trustDomains = TlsContextFactory.trustDomains(cert, settings);
            if (built != null) {
                // Engines made from the old context hold their own reference until their connection ends.
                ReferenceCountUtil.release(built.context());
            }
            built = fresh;
        }
        // The caller's reference: a rotation on another thread may release ours before its engine exists.
        ReferenceCountUtil.retain(built.context());
        return built;
    }

    @Override
    public synchronized void close() {
        if (current != null) {
            ReferenceCountUtil.release(current.context());
            current = null;
        }
    }
}
