package io.ambit.hbone.tls;

import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.PeerIdentities.Role;
import io.ambit.hbone.identity.SpiffeId;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * The client side of HBONE TLS, for any number of source identities. Contexts are kept per source
 * identity and rebuilt when a different certificate instance for it comes in (rotation); handshakes
 * already under way keep the old one. Each connection states the server identities it expects, and a
 * server is accepted only if its SPIFFE id is among them. No SNI is sent. With a {@link RevocationChecker},
 * servers whose chain the CRL revokes are refused in the handshake.
 */
public final class ClientTls implements AutoCloseable {
    private final TlsSettings settings;
    private final RevocationChecker revocations; // null: no CRL
    private final Map<SpiffeId, TlsContextFactory.Built> contexts = new HashMap<>(); // guarded by this

    /** Client TLS without a CRL. */
    public ClientTls(TlsSettings settings) {
        this(settings, null);
    }

    /** Client TLS refusing servers revoked by {@code revocations} ({@code null}: no CRL). */
    public ClientTls(TlsSettings settings, RevocationChecker revocations) {
        this.settings = settings;
        this.revocations = revocations;
    }

    public TlsSettings settings() {
        return settings;
    }

    /** The CRL servers are checked against, if any. */
    public Optional<RevocationChecker> revocations() {
        return Optional.ofNullable(revocations);
    }

    /**
     * A handler for one outgoing connection presenting {@code source} and accepting only a server with
     * one of {@code expectedServers}. Add it to the pipeline straight away.
     *
     * @throws SSLException when no context can be built from {@code source}
     */
    public SslHandler newHandler(ByteBufAllocator alloc, WorkloadCertificate source, Set<SpiffeId> expectedServers)
            throws SSLException {
        if (expectedServers.isEmpty()) {
            throw new IllegalArgumentException("expectedServers is empty (expected at least one SPIFFE id)");
        }
        TlsContextFactory.Built built = contextFor(source);
        // No peer host: no SNI (as ztunnel) and no client-side session cache entry.
        SslHandler handler;
        try {
            handler = built.context().newHandler(alloc); // the engine keeps the context alive
        } finally {
            ReferenceCountUtil.release(built.context());
        }
        SSLEngine engine = handler.engine();
        TlsContextFactory.disableResumption(engine);
        built.trustManager().expect(engine, expectedServers);
        handler.handshakeFuture().addListener(f -> built.trustManager().forget(engine));
        handler.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
        return handler;
    }

    /**
     * Checks a completed handshake and returns the server it authenticated.
     *
     * @throws SSLException when the negotiated parameters or the identity are not acceptable, or the server
     *     is revoked by now
     */
    public TlsPeer verifyPeer(SslHandler handler, Set<SpiffeId> expectedServers) throws SSLException {
        return HandshakeCheck.peer(handler, settings, Role.SERVER, expectedServers::contains, revocations);
    }

    private synchronized TlsContextFactory.Built contextFor(WorkloadCertificate cert) throws SSLException {
        TlsContextFactory.Built built = contexts.get(cert.identity());
        if (built == null || built.certificate() != cert) {
            TlsContextFactory.Built fresh = TlsContextFactory.client(cert, settings, revocations);
            contexts.put(cert.identity(), fresh);
            if (built != null) {
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
        contexts.values().forEach(b -> ReferenceCountUtil.release(b.context()));
        contexts.clear();
    }
}
