package io.ambit.hbone.tls;

import io.ambit.hbone.identity.SpiffeId;
import io.netty.handler.ssl.OpenSslSession;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What is checked after a handshake completes, on both sides: the parameters the context could not pin
 * down (BoringSSL always keeps ChaCha20 in TLS 1.3; a peer may skip ALPN) and which verified identity the
 * peer is.
 */
final class HandshakeCheck {
    private HandshakeCheck() {}

    static TlsPeer peer(SslHandler handler, TlsSettings settings, Predicate<SpiffeId> accepted) throws SSLException {
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
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            throw new SSLException("peer presented no certificate", e);
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
            throw new SSLException("peer presented no X.509 certificate");
        }
        List<SpiffeId> ids;
        try {
            ids = SpiffeTrustManager.spiffeIds(leaf);
        } catch (CertificateException e) {
            throw new SSLException(e.getMessage(), e);
        }
        for (SpiffeId id : ids) {
            if (accepted.test(id)) {
                return new TlsPeer(id, leaf, protocol, cipher, group, alpn);
            }
        }
        // The trust manager already refused such a peer; reaching here means verification was bypassed.
        throw new SSLException("peer identity " + ids + " was not accepted");
    }
}
