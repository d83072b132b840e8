package io.ambit.hbone.tls;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * The server side of HBONE TLS for one identity. Each new connection gets an {@link SslHandler} from the
 * context of the certificate the supplier returns at that moment: when the certificate rotates, the next
 * handshake presents the new one, while connections already up keep theirs. A context is rebuilt only
 * when the supplier returns a different instance.
 */
public final class ServerTls implements AutoCloseable {
    private final Supplier<WorkloadCertificate> certificates;
    private final TlsSettings settings;
    private TlsContextFactory.Built current; // guarded by this

    public ServerTls(Supplier<WorkloadCertificate> certificates, TlsSettings settings) {
        this.certificates = certificates;
        this.settings = settings;
    }

    public TlsSettings settings() {
        return settings;
    }

    /**
     * A handler for one accepted connection, presenting the current certificate. Add it to the pipeline
     * straight away: its handshake future is what releases per-connection state.
     *
     * @throws SSLException when no context can be built from the current certificate
     */
    public SslHandler newHandler(ByteBufAllocator alloc) throws SSLException {
        TlsContextFactory.Built built = contextFor(certificates.get());
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
     * @throws SSLException when the negotiated parameters or the identity are not acceptable
     */
    public TlsPeer verifyPeer(SslHandler handler) throws SSLException {
        Set<String> trustDomains = new HashSet<>(settings.trustDomainAliases());
        trustDomains.add(certificates.get().identity().trustDomain());
        return HandshakeCheck.peer(handler, settings, id -> trustDomains.contains(id.trustDomain()));
    }

    private synchronized TlsContextFactory.Built contextFor(WorkloadCertificate cert) throws SSLException {
        TlsContextFactory.Built built = current;
        if (built == null || built.certificate() != cert) {
            TlsContextFactory.Built fresh = TlsContextFactory.server(cert, settings);
            current = fresh;
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
