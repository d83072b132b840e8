package io.ambit.hbone.tls;

import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.identity.PeerIdentities;
import io.ambit.hbone.identity.PeerIdentities.Role;
import io.ambit.hbone.identity.SpiffeId;
import io.netty.handler.ssl.OpenSslSession;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What is checked after a handshake completes, on both sides: the parameters the context may not have pinned
 * down (ChaCha20 in TLS 1.3 where {@link AesGcmOnly} could not be applied; a peer may skip ALPN), which verified identity the
 * peer is (by the same strict rules as the trust manager), and, with a CRL, that its chain is not revoked
 * now: a CRL that arrived between the trust manager's check and here is not missed.
 */
final class HandshakeCheck {
    private HandshakeCheck() {}

    static TlsPeer peer(
            SslHandler handler,
            TlsSettings settings,
            Role role,
            Predicate<SpiffeId> accepted,
            RevocationChecker revocations)
            throws SSLException {
        SSLSession session = handler.engine().getSession();
        String protocol = session.getProtocol();
        if (!TlsContextFactory.protocols(settings).contains(protocol)) {
            throw new SSLException(
                    "negotiated " + protocol + " (expected one of " + TlsContextFactory.protocols(settings) + ")");
        }
        String cipher = session.getCipherSuite();
        if (!TlsContextFactory.cipherSuites(settings).contains(cipher)) {
            throw new SSLException("negotiated cipher suite " + cipher + " (expected AES-GCM: "
                    + TlsContextFactory.cipherSuites(settings) + ")");
        }
        String alpn = handler.applicationProtocol();
        if (alpn != null && !alpn.equals("h2")) {
            throw new SSLException("negotiated application protocol " + alpn + " (expected h2)");
        }
        String group = session instanceof OpenSslSession openSsl ? openSsl.getNamedGroup() : null;
        if (group != null && !settings.compliancePolicy().groups().contains(group)) {
            throw new SSLException("negotiated key exchange " + group + " (expected one of "
                    + settings.compliancePolicy().groups() + ")");
        }
        Certificate[] presented;
        try {
            presented = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            throw new SSLException("peer presented no certificate", e);
        }
        List<X509Certificate> chain = new ArrayList<>(presented.length);
        for (Certificate c : presented) {
            if (!(c instanceof X509Certificate x509)) {
                throw new SSLException("peer presented a " + c.getType() + " certificate (expected X.509)");
            }
            chain.add(x509);
        }
        if (chain.isEmpty()) {
            throw new SSLException("peer presented no X.509 certificate");
        }
        X509Certificate leaf = chain.getFirst();
        SpiffeId id;
        try {
            id = PeerIdentities.of(leaf, role);
            if (!accepted.test(id)) {
                // The trust manager already refused such a peer; reaching here means verification was bypassed.
                throw new SSLException("peer identity " + id + " was not accepted");
            }
            SpiffeTrustManager.checkNotRevoked(revocations, chain, id);
        } catch (CertificateException e) {
            throw new SSLException(e.getMessage(), e);
        }
        return new TlsPeer(id, leaf, chain, protocol, cipher, group, alpn);
    }
}
