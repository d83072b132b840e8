package io.ambit.hbone.identity;

import java.security.cert.CertificateException;

/**
 * A certificate does not carry a usable workload identity: no or several SPIFFE URI SANs, a hostile
 * encoding, a CA certificate used as a leaf, or an extended key usage that does not allow the peer's role.
 * A {@link CertificateException} so that a trust manager can throw it as is; the handshake fails and the
 * connection is closed.
 */
public final class PeerIdentityException extends CertificateException {
    public PeerIdentityException(String message) {
        super(message);
    }

    public PeerIdentityException(String message, Throwable cause) {
        super(message, cause);
    }
}
